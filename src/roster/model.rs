//! The roster's typed records: persons (老干部), staff (工作人员) and their enums.
//! Pure data; parsing lives in `parse`, storage in `store`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::LunarDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// 离休
    Lixiu,
    /// 退休
    Tuixiu,
    /// 遗属
    Yishu,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Lixiu, Category::Tuixiu, Category::Yishu];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Lixiu => "离休",
            Category::Tuixiu => "退休",
            Category::Yishu => "遗属",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        match s.trim() {
            "离休" | "离休干部" | "lixiu" => Some(Category::Lixiu),
            "退休" | "退休干部" | "tuixiu" => Some(Category::Tuixiu),
            "遗属" | "yishu" => Some(Category::Yishu),
            _ => None,
        }
    }
}

/// 职级, ordered from lowest to highest so `>=` means "at least".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rank {
    /// 其他
    Other = 0,
    /// 科级
    Section = 1,
    /// 副处级
    DeputyDivision = 2,
    /// 县处级
    Division = 3,
    /// 副厅级
    DeputyBureau = 4,
    /// 厅级
    Bureau = 5,
}

impl Rank {
    pub const ALL: [Rank; 6] = [
        Rank::Bureau,
        Rank::DeputyBureau,
        Rank::Division,
        Rank::DeputyDivision,
        Rank::Section,
        Rank::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Rank::Other => "其他",
            Rank::Section => "科级",
            Rank::DeputyDivision => "副处级",
            Rank::Division => "县处级",
            Rank::DeputyBureau => "副厅级",
            Rank::Bureau => "厅级",
        }
    }
    pub fn parse(s: &str) -> Option<Rank> {
        match s.trim() {
            "厅级" | "正厅级" => Some(Rank::Bureau),
            "副厅级" => Some(Rank::DeputyBureau),
            "县处级" | "正处级" | "处级" => Some(Rank::Division),
            "副处级" => Some(Rank::DeputyDivision),
            "科级" | "正科级" | "副科级" => Some(Rank::Section),
            "其他" | "" => Some(Rank::Other),
            _ => None,
        }
    }
    pub fn from_i64(v: i64) -> Rank {
        match v {
            5 => Rank::Bureau,
            4 => Rank::DeputyBureau,
            3 => Rank::Division,
            2 => Rank::DeputyDivision,
            1 => Rank::Section,
            _ => Rank::Other,
        }
    }
}

/// 自理能力
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SelfCare {
    /// 自理
    #[default]
    Full,
    /// 半自理
    Partial,
    /// 不能自理
    None,
}

impl SelfCare {
    pub fn as_str(self) -> &'static str {
        match self {
            SelfCare::Full => "自理",
            SelfCare::Partial => "半自理",
            SelfCare::None => "不能自理",
        }
    }
    pub fn parse(s: &str) -> Option<SelfCare> {
        match s.trim() {
            "自理" | "" => Some(SelfCare::Full),
            "半自理" => Some(SelfCare::Partial),
            "不能自理" | "不自理" => Some(SelfCare::None),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim() {
            "男" | "M" | "m" | "male" => Some(Sex::Male),
            "女" | "F" | "f" | "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// One retiree as the roster describes them.
/// A person's facts that are neither free text nor lists: sex, birth, category and
/// rank, care and living situation, hospital and death. What the rules read most;
/// `Person` (the roster) and the planner's `PlanPerson` both hold one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub sex: Option<Sex>,
    /// 出生日期 (Gregorian)
    pub birth_date: NaiveDate,
    /// 农历生日: keeps the lunar birthday
    pub lunar_birthday: bool,
    /// 农历出生日期, when the roster gives it
    pub lunar_birth_date: Option<LunarDate>,
    pub category: Category,
    pub rank: Rank,
    pub self_care: SelfCare,
    /// 独居
    pub lives_alone: bool,
    /// 空巢
    pub empty_nest: bool,
    /// 丧偶
    pub widowed: bool,
    /// 困难
    pub hardship: bool,
    /// 住院日期 (None = not in hospital)
    pub hospitalised_since: Option<NaiveDate>,
    /// 去世日期
    pub deceased_on: Option<NaiveDate>,
}

impl Facts {
    /// Born on `birth_date`, of this category and rank; everything else unknown,
    /// false or empty (自理).
    pub fn new(birth_date: NaiveDate, category: Category, rank: Rank) -> Facts {
        Facts {
            sex: None,
            birth_date,
            lunar_birthday: false,
            lunar_birth_date: None,
            category,
            rank,
            self_care: SelfCare::Full,
            lives_alone: false,
            empty_nest: false,
            widowed: false,
            hardship: false,
            hospitalised_since: None,
            deceased_on: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// 编号 (optional bureau number)
    pub number: Option<String>,
    /// 姓名, trimmed
    pub name: String,
    /// 身份证号, upper-case X
    pub id_number: Option<String>,
    #[serde(flatten)]
    pub facts: Facts,
    /// 原单位
    pub former_unit: Option<String>,
    /// 联系电话
    pub phone: Option<String>,
    /// 家属电话
    pub family_phone: Option<String>,
    /// 住址
    pub address: Option<String>,
    /// 社区
    pub community: Option<String>,
    /// 党支部 (non-empty means party member)
    pub party_branch: Option<String>,
    /// 健康状况
    pub health: Option<String>,
    /// 联系人: staff numbers (工号), in roster order
    pub staff: Vec<String>,
    /// 标签
    pub tags: Vec<String>,
}

impl Person {
    /// A person with only the fields every roster row must have; everything else
    /// empty, false or unknown (自理, no 联系人).
    pub fn new(
        name: impl Into<String>,
        birth_date: NaiveDate,
        category: Category,
        rank: Rank,
    ) -> Person {
        Person {
            number: None,
            name: name.into(),
            id_number: None,
            facts: Facts::new(birth_date, category, rank),
            former_unit: None,
            phone: None,
            family_phone: None,
            address: None,
            community: None,
            party_branch: None,
            health: None,
            staff: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The upsert key: 身份证号, or 编号 when there is none.
    pub fn key(&self) -> &str {
        self.id_number
            .as_deref()
            .or(self.number.as_deref())
            .unwrap_or("")
    }
}

/// Where a staff member can be reached: what the roster gives and the channels use.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    /// 手机
    pub mobile: Option<String>,
    /// 邮箱
    pub email: Option<String>,
    /// 企业微信 user id, for `<@userid>` mentions
    pub wecom: Option<String>,
    /// 钉钉 user id or mobile (mentions use the mobile)
    pub dingtalk: Option<String>,
    /// 飞书 user id (`ou_…` or user_id), for `<at user_id="…">` mentions
    pub feishu: Option<String>,
}

/// Phone numbers masked (138****1234), so a logged value leaks none.
impl std::fmt::Debug for Addresses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Addresses")
            .field("mobile", &self.mobile.as_deref().map(crate::mask::phone))
            .field("email", &self.email)
            .field("wecom", &self.wecom)
            .field("dingtalk", &self.dingtalk)
            .field("feishu", &self.feishu)
            .finish()
    }
}

/// One staff member (工作人员).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    /// 工号
    pub number: String,
    /// 姓名
    pub name: String,
    #[serde(flatten)]
    pub addresses: Addresses,
    /// 上级 (a 工号)
    pub supervisor: Option<String>,
    /// 角色
    pub role: Option<String>,
    /// 提醒方式 as channel names in order: sms, email, wecom, dingtalk, feishu, webhook, console
    pub channels: Vec<String>,
}

/// Maps a 提醒方式 word to a channel name.
pub fn channel_name(word: &str) -> Option<&'static str> {
    match word.trim().to_lowercase().as_str() {
        "短信" | "sms" => Some("sms"),
        "邮件" | "电子邮件" | "邮箱" | "email" | "mail" => Some("email"),
        "企业微信" | "企微" | "wecom" => Some("wecom"),
        "钉钉" | "dingtalk" => Some("dingtalk"),
        "飞书" | "feishu" | "lark" => Some("feishu"),
        "webhook" | "接口" => Some("webhook"),
        "控制台" | "console" | "file" => Some("console"),
        _ => None,
    }
}
