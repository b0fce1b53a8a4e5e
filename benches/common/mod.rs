//! Shared by the benches: a deterministic synthetic roster (persons, staff, events,
//! documents) and process memory figures read from `/proc/self/status`.
//!
//! Each person is generated from its own index with its own small PRNG, so the roster
//! is the same on every run and on any number of threads.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use qinqing::calendar::{self, LunarDate, WorkCalendar};
use qinqing::config::ScheduleConfig;
use qinqing::delivery::channels::{self, ChannelsConfig, WebhookConfig};
use qinqing::delivery::dispatcher::Dispatcher;
use qinqing::roster::ImportPlan;
use qinqing::roster::reconcile::{NewEvent, Reassignment};
use qinqing::roster::{Category, Person, Rank, SelfCare, Sex, Staff};
use qinqing::roster::{Document, PersonEvent, PersonRecord, RosterSnapshot, StaffRecord};
use qinqing::store::Store;

/// splitmix64: tiny, fast, and good enough to mix a roster.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5151_5151)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳",
];
const GIVEN: &[&str] = &[
    "德", "明", "桂", "兰", "志", "强", "淑", "珍", "文", "华", "玉", "梅", "国", "庆", "春", "花",
    "长", "林", "凤", "英", "建", "军", "秀", "芳", "振", "海", "丽", "云", "金", "山",
];
const COMMUNITIES: &[&str] = &[
    "和平里社区",
    "幸福街社区",
    "东风路社区",
    "解放路社区",
    "建设路社区",
    "光明社区",
    "红星社区",
    "朝阳社区",
];

/// The year the benches plan.
pub const YEAR: i32 = 2026;

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// About 33 persons per staff member (3,030 staff for 100,000 persons).
pub fn staff_count(persons: usize) -> usize {
    (persons / 33).max(4)
}

/// Staff `S00000`…; every 20th is a section leader (no supervisor) over the next 19.
pub fn staff(n: usize) -> Vec<Staff> {
    (0..n)
        .map(|i| {
            let mut rng = Rng::new(0xABCD_0000 + i as u64);
            let leader = i - i % 20;
            Staff {
                number: format!("S{i:05}"),
                name: format!(
                    "{}{}{}",
                    rng.pick(SURNAMES),
                    rng.pick(GIVEN),
                    rng.pick(GIVEN)
                ),
                addresses: qinqing::roster::Addresses {
                    mobile: Some(format!("139{:08}", i)),
                    email: Some(format!("s{i:05}@example.org")),
                    wecom: None,
                    dingtalk: None,
                    feishu: None,
                },
                supervisor: (leader != i).then(|| format!("S{leader:05}")),
                role: Some(if leader == i { "科长" } else { "干事" }.into()),
                channels: vec!["webhook".into()],
            }
        })
        .collect()
}

fn random_day(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days() as u64 + 1;
    from + chrono::Duration::days(rng.below(span) as i64)
}

/// One synthetic person: (person, active, events as (kind, date)).
pub type SyntheticPerson = (Person, bool, Vec<(String, NaiveDate)>);

/// One synthetic person.
pub fn person(i: usize, n_staff: usize) -> SyntheticPerson {
    let mut rng = Rng::new(i as u64);
    // Ages 60–105 in YEAR.
    let birth_year = YEAR - 60 - rng.below(46) as i32;
    let birth = random_day(&mut rng, ymd(birth_year, 1, 1), ymd(birth_year, 12, 31));
    let old = birth_year <= 1934;
    let category = match (old, rng.below(100)) {
        (true, 0..60) => Category::Lixiu,
        (true, 60..75) | (false, 0..15) => Category::Yishu,
        _ => Category::Tuixiu,
    };
    let rank = match rng.below(100) {
        0..3 => Rank::Bureau,
        3..8 => Rank::DeputyBureau,
        8..28 => Rank::Division,
        28..45 => Rank::DeputyDivision,
        45..75 => Rank::Section,
        _ => Rank::Other,
    };
    let lunar_birthday = rng.chance(300);
    let lunar_birth_date = if lunar_birthday && rng.chance(500) {
        // Given on the roster: usually the conversion of the birth date, sometimes a
        // leap month or a day 30 (the awkward cases).
        let l = calendar::to_lunar(birth);
        match (l, rng.below(20)) {
            (Some(l), 0) => match calendar::leap_month(l.year) {
                Some(m) => Some(LunarDate {
                    month: m,
                    leap: true,
                    ..l
                }),
                None => Some(l),
            },
            (Some(l), 1) => Some(LunarDate { day: 30, ..l }),
            (l, _) => l,
        }
    } else {
        None
    };
    let given = if rng.chance(600) {
        format!("{}{}", rng.pick(GIVEN), rng.pick(GIVEN))
    } else {
        rng.pick(GIVEN).to_string()
    };
    let name = format!("{}{}", rng.pick(SURNAMES), given);
    let self_care = match rng.below(100) {
        0..78 => SelfCare::Full,
        78..92 => SelfCare::Partial,
        _ => SelfCare::None,
    };
    let hospitalised_since = rng
        .chance(40)
        .then(|| random_day(&mut rng, ymd(YEAR - 1, 11, 1), ymd(YEAR, 12, 15)));
    let deceased_on = rng
        .chance(15)
        .then(|| random_day(&mut rng, ymd(YEAR, 1, 1), ymd(YEAR, 12, 30)));
    let mut events = Vec::new();
    let stays = match rng.below(1000) {
        0..60 => 1,
        60..75 => 2,
        _ => 0,
    };
    let mut day = ymd(YEAR - 1, 6, 1);
    for _ in 0..stays {
        let into = random_day(&mut rng, day, day + chrono::Duration::days(200));
        events.push(("hospitalised".to_string(), into));
        let out = into + chrono::Duration::days(3 + rng.below(20) as i64);
        events.push(("discharged".to_string(), out));
        day = out + chrono::Duration::days(1);
    }
    if let Some(d) = deceased_on {
        events.push(("deceased".to_string(), d));
    }
    events.sort_by_key(|e| e.1);
    let s1 = (i * 7919) % n_staff;
    let mut staff = vec![format!("S{s1:05}")];
    if rng.chance(300) {
        staff.push(format!(
            "S{:05}",
            (s1 + 1 + rng.below(7) as usize) % n_staff
        ));
    }
    staff.dedup();
    let person = Person {
        number: Some(format!("P{i:07}")),
        name,
        id_number: Some(format!(
            "{:06}{}{:04}",
            110_000 + (i / 10_000) % 890_000,
            birth.format("%Y%m%d"),
            i % 10_000
        )),
        former_unit: Some(format!(
            "市{}局",
            rng.pick(&["财政", "交通", "教育", "卫生", "公安"])
        )),
        phone: Some(format!("138{:08}", i % 100_000_000)),
        family_phone: rng
            .chance(600)
            .then(|| format!("137{:08}", i % 100_000_000)),
        address: Some(format!(
            "{}{}号楼{}单元",
            rng.pick(COMMUNITIES),
            1 + rng.below(30),
            1 + rng.below(6)
        )),
        community: Some(rng.pick(COMMUNITIES).to_string()),
        party_branch: rng
            .chance(650)
            .then(|| format!("第{}党支部", 1 + rng.below(40))),
        health: None,
        // After the fields above, so the random draws come in the order they
        // always did (the same synthetic roster as before).
        facts: qinqing::roster::Facts {
            sex: Some(if i.is_multiple_of(2) {
                Sex::Male
            } else {
                Sex::Female
            }),
            birth_date: birth,
            lunar_birthday,
            lunar_birth_date,
            category,
            rank,
            self_care,
            lives_alone: rng.chance(120),
            empty_nest: rng.chance(300),
            widowed: rng.chance(250),
            hardship: rng.chance(50),
            hospitalised_since,
            deceased_on,
        },
        staff,
        tags: if rng.chance(100) {
            vec!["重点".into()]
        } else {
            Vec::new()
        },
    };
    (person, !rng.chance(10), events)
}

/// The documents registered in the bench (ids 1…4): the two of the acceptance check,
/// one more in YEAR, and one of the year before (never an occasion in YEAR).
pub fn documents() -> Vec<Document> {
    vec![
        Document {
            id: 1,
            title: "关于做好2026年离退休干部春节慰问工作的通知".into(),
            issued_on: ymd(YEAR, 1, 12),
            deadline: ymd(YEAR, 2, 6),
            audience: vec![Category::Lixiu, Category::Tuixiu],
            min_rank: Some(Rank::Division),
        },
        Document {
            id: 2,
            title: "市委关于学习贯彻全会精神的通报".into(),
            issued_on: ymd(YEAR, 7, 10),
            deadline: ymd(YEAR, 7, 31),
            audience: vec![Category::Lixiu],
            min_rank: None,
        },
        Document {
            id: 3,
            title: "关于开展重阳节敬老活动的通知".into(),
            issued_on: ymd(YEAR, 10, 8),
            deadline: ymd(YEAR, 10, 20),
            audience: vec![Category::Lixiu, Category::Tuixiu, Category::Yishu],
            min_rank: None,
        },
        Document {
            id: 4,
            title: "关于2025年度体检安排的通知".into(),
            issued_on: ymd(YEAR - 1, 11, 3),
            deadline: ymd(YEAR - 1, 12, 15),
            audience: vec![Category::Lixiu, Category::Tuixiu],
            min_rank: Some(Rank::DeputyDivision),
        },
    ]
}

/// A roster snapshot as `Store::load_roster` returns it (ids from 1).
/// `n` synthetic staff members as the store returns them.
pub fn stored_staff(n: usize) -> Vec<StaffRecord> {
    staff(n)
        .into_iter()
        .enumerate()
        .map(|(i, staff)| StaffRecord {
            id: i as i64 + 1,
            staff,
            active: true,
        })
        .collect()
}

pub fn snapshot(n: usize) -> RosterSnapshot {
    let n_staff = staff_count(n);
    let rows: Vec<SyntheticPerson> = (0..n).into_par_iter().map(|i| person(i, n_staff)).collect();
    let mut persons = Vec::with_capacity(n);
    let mut events = Vec::new();
    for (i, (person, active, evs)) in rows.into_iter().enumerate() {
        let id = i as i64 + 1;
        for (kind, on) in evs {
            events.push(PersonEvent {
                person_id: id,
                kind,
                on,
            });
        }
        persons.push(PersonRecord {
            id,
            person,
            active,
            version: 1,
            imported: None,
        });
    }
    let staff = stored_staff(n_staff);
    RosterSnapshot {
        persons,
        staff,
        events,
    }
}

// ---- memory and time ----------------------------------------------------------------

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident set size now, in MiB.
pub fn rss_mib() -> f64 {
    status_kib("VmRSS:") as f64 / 1024.0
}

/// Peak resident set size (VmHWM) since the start or the last [`reset_peak`], in MiB.
pub fn peak_mib() -> f64 {
    status_kib("VmHWM:") as f64 / 1024.0
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); returns whether it worked.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `f`, printing its wall time and the memory figures after it.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> (T, f64) {
    let t0 = Instant::now();
    let out = f();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "  {name:<44} {secs:>8.3} s   rss {:>7.0} MiB   peak {:>7.0} MiB",
        rss_mib(),
        peak_mib()
    );
    (out, secs)
}

/// `QINQING_BENCH_SIZES=100000,1000000` (underscores allowed), else `default`.
pub fn sizes(default: &[usize]) -> Vec<usize> {
    match std::env::var("QINQING_BENCH_SIZES") {
        Ok(s) if !s.trim().is_empty() => s
            .split(',')
            .map(|x| {
                x.trim().replace('_', "").parse().unwrap_or_else(|_| {
                    panic!("QINQING_BENCH_SIZES: {x:?} is not a number of persons")
                })
            })
            .collect(),
        _ => default.to_vec(),
    }
}

/// Runs `child_main(size)` for each size in a fresh child process (this same binary),
/// so each size's VmHWM is its own. Returns false if a child failed.
pub fn run_children(env_key: &str, sizes: &[usize]) -> bool {
    let exe = std::env::current_exe().expect("current exe");
    let mut ok = true;
    for &n in sizes {
        let status = std::process::Command::new(&exe)
            .env(env_key, n.to_string())
            .status()
            .expect("spawn bench child");
        if !status.success() {
            eprintln!("bench child for {n} persons failed: {status}");
            ok = false;
        }
    }
    ok
}

pub fn with_commas(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The weekday of a date, for log lines.
pub fn weekday(d: NaiveDate) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "日"][d.weekday().num_days_from_monday() as usize]
}

/// GB 11643 check character of an ID number's first 17 digits.
fn check_char(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A synthetic roster as CSV (the columns a bureau's sheet has): `rows` persons
/// spread over `staff` staff members (S0000…), every `changed_every`-th row in
/// hospital since 2026-03-01.
pub fn roster_csv(rows: usize, staff: usize, changed_every: Option<usize>) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(rows * 160);
    s.push_str("编号,姓名,身份证号,出生日期,农历生日,类别,职级,联系电话,党支部,自理能力,独居,住院日期,联系人\n");
    let cats = ["离休", "退休", "退休", "退休", "遗属"];
    let ranks = ["厅级", "副厅级", "县处级", "副处级", "科级", "其他"];
    for i in 0..rows {
        let year = 1925 + (i % 40);
        let month = 1 + (i / 40) % 12;
        let day = 1 + (i / 480) % 28;
        // Unique for 13,440,000 rows: the birth dates cycle every 13,440.
        let seq = (i / 13_440) % 1000;
        let body = format!("370102{year:04}{month:02}{day:02}{seq:03}");
        let id = format!("{body}{}", check_char(&body));
        let hospital = match changed_every {
            Some(n) if i % n == 0 => "2026-03-01",
            _ => "",
        };
        let _ = writeln!(
            s,
            "B{i:06},测试{i},{id},{year}-{month:02}-{day:02},{},{},{},139{:08},{},{},{},{hospital},S{:04}",
            if i % 7 == 0 { "是" } else { "否" },
            cats[i % 5],
            ranks[i % 6],
            i,
            if i % 3 == 0 { "第一党支部" } else { "" },
            if i % 4 == 0 { "半自理" } else { "自理" },
            if i % 9 == 0 { "是" } else { "否" },
            i % staff
        );
    }
    s
}

/// The staff sheet of [`roster_csv`].
pub fn staff_csv(staff: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("工号,姓名,手机,上级\n");
    for i in 0..staff {
        let _ = writeln!(s, "S{i:04},工作人员{i},1380000{i:04},");
    }
    s
}

/// Idempotency keys a [`sink_with_keys`] received, with how many times each.
pub type Keys = Arc<Mutex<HashMap<String, u64>>>;

/// A webhook sink on 127.0.0.1 that answers 200 with an id; returns its URL and the
/// number of requests it received.
pub async fn sink() -> (String, Arc<AtomicU64>) {
    let (url, received, _) = sink_with_keys().await;
    (url, received)
}

/// [`sink`], also counting each `Idempotency-Key` header it received (a key seen
/// twice is a message delivered twice).
pub async fn sink_with_keys() -> (String, Arc<AtomicU64>, Keys) {
    use axum::routing::post;
    let received = Arc::new(AtomicU64::new(0));
    let keys: Keys = Arc::default();
    let counter = received.clone();
    let seen = keys.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, _body: axum::body::Bytes| {
                let counter = counter.clone();
                let seen = seen.clone();
                async move {
                    if let Some(k) = headers.get("Idempotency-Key").and_then(|v| v.to_str().ok()) {
                        *seen.lock().unwrap().entry(k.to_string()).or_default() += 1;
                    }
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    format!("{{\"id\":\"m{n}\"}}")
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), received, keys)
}

pub async fn dispatcher(store: &Store, url: String, digest: bool) -> Dispatcher {
    let cfg = ChannelsConfig {
        webhook: Some(WebhookConfig {
            url,
            secret: None,
            signature_header: "X-Qinqing-Signature".into(),
            timeout_secs: 10,
        }),
        ..Default::default()
    };
    let channels = channels::build(
        &cfg,
        Arc::new(qinqing::clock::FixedClock::parse("2026-09-18T08:30:00+08:00").unwrap()),
    )
    .expect("webhook channel");
    let schedule = ScheduleConfig {
        digest,
        ..Default::default()
    };
    Dispatcher::new(
        store.clone(),
        channels,
        schedule,
        Arc::new(WorkCalendar::builtin()),
        None,
    )
}

/// Persons, staff, events and assignments of the synthetic roster as an import.
pub fn import_plan(n: usize, today: NaiveDate) -> ImportPlan {
    let snap = snapshot(n);
    let mut keys = Vec::with_capacity(snap.persons.len());
    let mut plan = ImportPlan {
        today,
        upsert_staff: snap.staff.iter().map(|s| s.staff.clone()).collect(),
        ..Default::default()
    };
    for sp in &snap.persons {
        let key = sp.person.key().to_string();
        plan.reassign.push(Reassignment {
            person_key: key.clone(),
            staff: sp.person.staff.clone(),
            was_stored: false,
        });
        if !sp.active {
            plan.deactivate.push(key.clone());
        }
        keys.push(key);
        plan.upsert_persons
            .push(qinqing::roster::reconcile::Upsert {
                person: sp.person.clone(),
                imported: sp.person.clone(),
            });
    }
    for e in &snap.events {
        plan.events.push(NewEvent {
            person_key: keys[e.person_id as usize - 1].clone(),
            kind: e.kind.clone(),
            on: e.on,
            note: None,
        });
    }
    plan
}
