//! Column names of the persons (花名册) and staff (工作人员) sheets, with their
//! English and common Chinese aliases, and the header-row mapping.

use super::values::{Cell, header_key};

/// A column of the persons sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Number,
    Name,
    Sex,
    IdNumber,
    BirthDate,
    LunarBirthday,
    LunarBirthDate,
    Category,
    Rank,
    FormerUnit,
    Phone,
    FamilyPhone,
    Address,
    Community,
    PartyBranch,
    Health,
    SelfCare,
    LivesAlone,
    EmptyNest,
    Widowed,
    Hardship,
    HospitalisedSince,
    DeceasedOn,
    Staff,
    Tags,
}

pub(crate) const P_COUNT: usize = 25;

impl P {
    pub(crate) const ALL: [P; P_COUNT] = [
        P::Number,
        P::Name,
        P::Sex,
        P::IdNumber,
        P::BirthDate,
        P::LunarBirthday,
        P::LunarBirthDate,
        P::Category,
        P::Rank,
        P::FormerUnit,
        P::Phone,
        P::FamilyPhone,
        P::Address,
        P::Community,
        P::PartyBranch,
        P::Health,
        P::SelfCare,
        P::LivesAlone,
        P::EmptyNest,
        P::Widowed,
        P::Hardship,
        P::HospitalisedSince,
        P::DeceasedOn,
        P::Staff,
        P::Tags,
    ];

    /// The canonical Chinese header, used in messages.
    pub(crate) fn label(self) -> &'static str {
        self.names()[0]
    }

    /// Accepted header names (already in `header_key` form); the first is canonical.
    fn names(self) -> &'static [&'static str] {
        match self {
            P::Number => &["编号", "number", "人员编号"],
            P::Name => &["姓名", "name"],
            P::Sex => &["性别", "sex", "gender"],
            P::IdNumber => &[
                "身份证号",
                "id_number",
                "idnumber",
                "身份证号码",
                "身份证",
                "公民身份号码",
            ],
            P::BirthDate => &["出生日期", "birth_date", "birthdate", "出生年月日"],
            P::LunarBirthday => &["农历生日", "lunar_birthday", "过农历生日"],
            P::LunarBirthDate => &["农历出生日期", "lunar_birth_date"],
            P::Category => &["类别", "category", "人员类别"],
            P::Rank => &["职级", "rank"],
            P::FormerUnit => &["原单位", "former_unit", "原工作单位"],
            P::Phone => &["联系电话", "phone", "电话", "本人电话"],
            P::FamilyPhone => &["家属电话", "family_phone", "家属联系电话"],
            P::Address => &["住址", "address", "家庭住址", "现住址"],
            P::Community => &["社区", "community", "所在社区"],
            P::PartyBranch => &["党支部", "party_branch", "所在党支部"],
            P::Health => &["健康状况", "health"],
            P::SelfCare => &["自理能力", "self_care"],
            P::LivesAlone => &["独居", "lives_alone"],
            P::EmptyNest => &["空巢", "empty_nest"],
            P::Widowed => &["丧偶", "widowed"],
            P::Hardship => &["困难", "hardship"],
            P::HospitalisedSince => &["住院日期", "hospitalised_since", "hospitalized_since"],
            P::DeceasedOn => &["去世日期", "deceased_on"],
            P::Staff => &["联系人", "staff"],
            P::Tags => &["标签", "tags"],
        }
    }

    fn from_key(key: &str) -> Option<P> {
        P::ALL.into_iter().find(|p| p.names().contains(&key))
    }
}

/// A column of the staff sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum S {
    Number,
    Name,
    Mobile,
    Email,
    Wecom,
    Dingtalk,
    Feishu,
    Supervisor,
    Role,
    Channels,
}

pub(crate) const S_COUNT: usize = 10;

impl S {
    pub(crate) const ALL: [S; S_COUNT] = [
        S::Number,
        S::Name,
        S::Mobile,
        S::Email,
        S::Wecom,
        S::Dingtalk,
        S::Feishu,
        S::Supervisor,
        S::Role,
        S::Channels,
    ];

    pub(crate) fn label(self) -> &'static str {
        self.names()[0]
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            S::Number => &["工号", "staff_no", "staffno", "编号"],
            S::Name => &["姓名", "name"],
            S::Mobile => &["手机", "mobile", "手机号", "手机号码", "联系电话"],
            S::Email => &["邮箱", "email", "电子邮箱", "电子邮件"],
            S::Wecom => &["企业微信", "wecom"],
            S::Dingtalk => &["钉钉", "dingtalk"],
            S::Feishu => &["飞书", "feishu", "lark"],
            S::Supervisor => &["上级", "supervisor"],
            S::Role => &["角色", "role", "职务"],
            S::Channels => &["提醒方式", "channels"],
        }
    }

    fn from_key(key: &str) -> Option<S> {
        S::ALL.into_iter().find(|s| s.names().contains(&key))
    }
}

/// The position of each known column in the header row, plus what was ignored.
pub(crate) struct Header<const N: usize> {
    pub index: [Option<usize>; N],
    /// Unknown or repeated header names (as written) with their 0-based position.
    pub ignored: Vec<(String, usize, &'static str)>,
}

impl<const N: usize> Header<N> {
    pub(crate) fn has(&self, i: usize) -> bool {
        self.index[i].is_some()
    }
}

fn map_header<const N: usize>(cells: &[Cell], find: impl Fn(&str) -> Option<usize>) -> Header<N> {
    let mut h = Header {
        index: [None; N],
        ignored: Vec::new(),
    };
    for (pos, cell) in cells.iter().enumerate() {
        let shown = cell.text();
        if shown.is_empty() {
            continue;
        }
        match find(&header_key(&shown)) {
            Some(i) if h.index[i].is_none() => h.index[i] = Some(pos),
            Some(_) => h.ignored.push((shown.into_owned(), pos, "重复的列")),
            None => h.ignored.push((shown.into_owned(), pos, "未知的列")),
        }
    }
    h
}

pub(crate) fn person_header(cells: &[Cell]) -> Header<P_COUNT> {
    map_header(cells, |k| P::from_key(k).map(|p| p as usize))
}

pub(crate) fn staff_header(cells: &[Cell]) -> Header<S_COUNT> {
    map_header(cells, |k| S::from_key(k).map(|s| s as usize))
}

/// Excel column letters for a 0-based column index: 0 → A, 26 → AA.
pub(crate) fn column_letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_any_order_and_unknown() {
        let cells = [
            Cell::Text("Category"),
            Cell::Text("ＮＡＭＥ"),
            Cell::Text(" 身份证号码 "),
            Cell::Text("备注"),
            Cell::Empty,
            Cell::Text("姓名"),
        ];
        let h = person_header(&cells);
        assert_eq!(h.index[P::Category as usize], Some(0));
        assert_eq!(h.index[P::Name as usize], Some(1));
        assert_eq!(h.index[P::IdNumber as usize], Some(2));
        assert_eq!(h.ignored.len(), 2);
        assert_eq!(h.ignored[0].0, "备注");
        assert_eq!(h.ignored[1].2, "重复的列");
    }

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn enum_order_matches_all() {
        for (i, p) in P::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
        }
        for (i, s) in S::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
    }
}
