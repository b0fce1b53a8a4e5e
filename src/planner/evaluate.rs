//! The evaluation driver: every rule for every person and year, through the
//! occasion cache and the memo, in parallel; script errors are collected, never fatal.

use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::rules::{Memo, Occasion, OccasionCache, RuleSet, RunError};

use super::PlanningRoster;

/// (index in `roster.persons`, index in `rules.rules`, that rule's occasions for that
/// person), as [`occasions`] returns them.
pub type PlannedOccasions = Vec<(usize, usize, Arc<Vec<Occasion>>)>;

/// Evaluates every rule for every active person for each year in `years`, using and
/// filling `cache`. Script errors are returned, never fatal. Each item is (index in
/// `roster.persons`, index in `rules.rules`, occasions); lists with no occasion are
/// left out.
pub fn occasions(
    rules: &RuleSet,
    roster: &PlanningRoster,
    years: RangeInclusive<i32>,
    cache: &mut OccasionCache,
) -> (PlannedOccasions, Vec<RunError>) {
    let mut parts = Vec::new();
    let errors = occasions_each(rules, roster, years, cache, |part| parts.push(part));
    // Joined into a list of the exact size, each part freed as it is appended: a
    // growing list would hold its old and new copies at once.
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        all.extend(part);
    }
    (all, errors)
}

/// Persons evaluated per part of [`occasions_each`].
pub const OCCASION_PART: usize = 1 << 16;

/// [`occasions`] a part of the roster ([`OCCASION_PART`] persons) at a time:
/// `each` gets each part's occasions, in roster order, and may drop them, so
/// counting over a province's roster never holds all its occasions at once.
/// Returns the script errors.
pub fn occasions_each(
    rules: &RuleSet,
    roster: &PlanningRoster,
    years: RangeInclusive<i32>,
    cache: &mut OccasionCache,
    mut each: impl FnMut(PlannedOccasions),
) -> Vec<RunError> {
    let years: Vec<i32> = years.collect();
    let hashes: Vec<u64> = rules.rules.iter().map(|r| r.hash).collect();
    cache.prepare_memos(&hashes, roster.documents_version, &years);
    let cache_ro: &OccasionCache = cache;
    // memos[rule][year]
    let memos: Vec<Vec<Arc<std::sync::RwLock<Memo>>>> = rules
        .rules
        .iter()
        .map(|r| {
            years
                .iter()
                .map(|&y| {
                    cache_ro
                        .memo(r.hash, roster.documents_version, y)
                        .expect("memo prepared above")
                })
                .collect()
        })
        .collect();
    // Every empty result shares one allocation (most (person, rule) pairs have none).
    let empty = cache.empty();
    let slots: Vec<(u64, i32)> = rules
        .rules
        .iter()
        .flat_map(|r| years.iter().map(move |&y| (r.hash, y)))
        .collect();
    let layout = cache.layout(&slots);
    /// What one person's evaluations give: a non-empty list of occasions, their new
    /// cache entries when anything was computed afresh, or a script error.
    enum Out {
        List(u32, u16, Arc<Vec<Occasion>>),
        Cache(u32, Vec<Option<Arc<Vec<Occasion>>>>),
        Error(Box<RunError>),
    }
    let mut errors = Vec::new();
    let keep = cache.keeps_persons();
    // In slices of the roster, so what is in flight stays small.
    for start in (0..roster.persons.len()).step_by(OCCASION_PART) {
        let end = (start + OCCASION_PART).min(roster.persons.len());
        let cache_ro: &OccasionCache = cache;
        let computed: Vec<Out> = roster.persons[start..end]
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, person)| {
                let pi = start + i;
                let mut out: Vec<Out> = Vec::new();
                if person.person.staff.is_empty() {
                    return out;
                }
                let version = roster.versions[pi];
                let cached = cache_ro.person(person.internal_id);
                let mut results = Vec::with_capacity(slots.len());
                let mut fresh = false;
                for (ri, rule) in rules.rules.iter().enumerate() {
                    for (yi, &year) in years.iter().enumerate() {
                        // A rule shipped off (`enabled: false`) plans nothing.
                        if !rule.enabled {
                            results.push(Some(empty.clone()));
                            continue;
                        }
                        let v = match cache_ro.get(
                            cached,
                            rule.hash,
                            version,
                            roster.documents_version,
                            year,
                        ) {
                            Some(v) => v,
                            None => {
                                fresh = true;
                                let memo = &memos[ri][yi];
                                let hit = memo.read().ok().and_then(|m| m.lookup(person));
                                match hit {
                                    Some(v) => v,
                                    None => match rules.eval_traced(rule, person, year) {
                                        (Ok(v), trace) => {
                                            let v = if v.is_empty() {
                                                empty.clone()
                                            } else {
                                                Arc::new(v)
                                            };
                                            let steps = Memo::steps(trace);
                                            if let Ok(mut m) = memo.write() {
                                                m.insert_steps(steps, v.clone());
                                            }
                                            v
                                        }
                                        (Err(e), _) => {
                                            out.push(Out::Error(Box::new(e)));
                                            results.push(None);
                                            continue;
                                        }
                                    },
                                }
                            }
                        };
                        if !v.is_empty() {
                            out.push(Out::List(pi as u32, ri as u16, v.clone()));
                        }
                        results.push(Some(v));
                    }
                }
                if fresh && keep {
                    out.push(Out::Cache(pi as u32, results));
                }
                out
            })
            .collect();
        let mut result = Vec::new();
        for o in computed {
            match o {
                Out::List(pi, ri, v) => result.push((pi as usize, ri as usize, v)),
                Out::Cache(pi, results) => {
                    let p = &roster.persons[pi as usize];
                    cache.set_person(
                        p.internal_id,
                        roster.versions[pi as usize],
                        roster.documents_version,
                        &layout,
                        &results,
                    );
                }
                Out::Error(e) => errors.push(*e),
            }
        }
        each(result);
    }
    // Persons who left the roster (or lost their staff member) leave the cache.
    let planned = || roster.persons.iter().filter(|p| !p.person.staff.is_empty());
    if cache.persons_len() > planned().count() {
        let ids: std::collections::HashSet<i64> = planned().map(|p| p.internal_id).collect();
        cache.retain_persons(|id| ids.contains(&id));
    }
    errors
}

/// Years whose occasions can have stages in [from, to].
pub fn years_for(from: NaiveDate, to: NaiveDate) -> RangeInclusive<i32> {
    use chrono::Datelike;
    (from.year() - 1)..=(to.year() + 1)
}
