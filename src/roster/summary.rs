//! The roster at a glance (for `qinqing check`): persons by category and rank, who
//! has no assigned staff member, who looks after too many, unknown 工号s. Pure.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::RosterSnapshot;

#[derive(Debug, Serialize, Default)]
pub struct RosterSummary {
    pub persons: usize,
    pub active_persons: usize,
    pub deceased: usize,
    pub staff: usize,
    pub unassigned: usize,
    pub by_category: BTreeMap<String, usize>,
    pub by_rank: BTreeMap<String, usize>,
    /// Active persons with no assigned staff member, as a clerk finds them in the
    /// file: `编号 姓名`, else the masked 身份证号 and the name.
    pub unassigned_persons: Vec<String>,
    /// Staff over `limits.max_persons_per_staff`.
    pub overloaded: Vec<StaffLoad>,
    /// 联系人 numbers that name no staff member.
    pub unknown_staff: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct StaffLoad {
    pub staff: String,
    pub persons: usize,
}

/// Active persons are those not marked inactive and not deceased.
pub fn summarise(s: &RosterSnapshot, max_per_staff: usize) -> RosterSummary {
    let mut out = RosterSummary {
        persons: s.persons.len(),
        staff: s.staff.len(),
        ..Default::default()
    };
    let known: HashMap<&str, ()> = s
        .staff
        .iter()
        .map(|x| (x.staff.number.as_str(), ()))
        .collect();
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for sp in &s.persons {
        let p = &sp.person;
        if p.facts.deceased_on.is_some() {
            out.deceased += 1;
        }
        if !sp.active || p.facts.deceased_on.is_some() {
            continue;
        }
        out.active_persons += 1;
        *out.by_category
            .entry(p.facts.category.as_str().into())
            .or_default() += 1;
        *out.by_rank.entry(p.facts.rank.as_str().into()).or_default() += 1;
        if p.staff.is_empty() {
            out.unassigned += 1;
            let label = match (&p.number, &p.id_number) {
                (Some(n), _) if !n.is_empty() => n.clone(),
                (_, Some(id)) => crate::mask::id_number(id),
                _ => p.key().to_string(),
            };
            out.unassigned_persons.push(format!("{label} {}", p.name));
        }
        for st in &p.staff {
            *load.entry(st.as_str()).or_default() += 1;
            if !known.contains_key(st.as_str()) && !out.unknown_staff.contains(st) {
                out.unknown_staff.push(st.clone());
            }
        }
    }
    out.overloaded = load
        .into_iter()
        .filter(|(_, n)| *n > max_per_staff)
        .map(|(s, n)| StaffLoad {
            staff: s.to_string(),
            persons: n,
        })
        .collect();
    out
}
