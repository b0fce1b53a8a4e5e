//! The occasion cache: each person's occasions, kept across ticks until the person,
//! their documents, the rule or the year changes.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Memo, Occasion};

/// Occasions for many persons, computed once per (rule hash, person version,
/// documents version, year) and reused by later ticks.
///
/// Compact, for a roster of a million: one map entry per person, holding only the
/// person's non-empty results, by slot in a shared layout (the (rule hash, year) pairs
/// of one planning run); a slot of the layout that is not listed is an empty result.
/// Replaced whole when anything of the person's is recomputed, so stale versions,
/// rules and years do not linger.
pub struct OccasionCache {
    persons: HashMap<i64, PersonCache>,
    layouts: Vec<Box<[(u64, i32)]>>,
    len: usize,
    /// (rule hash, documents version, year) → results shared between persons.
    memos: HashMap<(u64, u64, i32), Arc<std::sync::RwLock<Memo>>>,
    empty: Arc<Vec<Occasion>>,
    /// Marks a slot whose evaluation failed: not cached, tried again next time.
    failed: Arc<Vec<Occasion>>,
    /// False for a cache of one run ([`OccasionCache::one_run`]).
    keeps_persons: bool,
}

impl Default for OccasionCache {
    fn default() -> OccasionCache {
        OccasionCache {
            persons: HashMap::new(),
            layouts: Vec::new(),
            len: 0,
            memos: HashMap::new(),
            empty: Arc::new(Vec::new()),
            failed: Arc::new(Vec::new()),
            keeps_persons: true,
        }
    }
}

impl OccasionCache {
    /// A cache for one run (a preview): results are shared between persons (the
    /// memos), but nothing is kept per person, since nothing runs again.
    pub fn one_run() -> OccasionCache {
        OccasionCache {
            keeps_persons: false,
            ..OccasionCache::default()
        }
    }

    /// Whether per-person results are kept for the next run.
    pub fn keeps_persons(&self) -> bool {
        self.keeps_persons
    }
}

/// One person's cached evaluations, valid for one person version and one documents
/// version.
pub struct PersonCache {
    version: i64,
    documents_version: u64,
    layout: u32,
    /// (slot in the layout, occasions): the non-empty and the failed ones.
    lists: Box<[(u16, Arc<Vec<Occasion>>)]>,
}

/// A planning run's (rule hash, year) pairs, in slot order.
pub struct Layout(u32);

impl OccasionCache {
    /// The cached occasions of one person, rule and year, if still valid.
    pub fn get(
        &self,
        person: Option<&PersonCache>,
        rule_hash: u64,
        version: i64,
        documents_version: u64,
        year: i32,
    ) -> Option<Arc<Vec<Occasion>>> {
        let p = person?;
        if p.version != version || p.documents_version != documents_version {
            return None;
        }
        let slot = self.layouts[p.layout as usize]
            .iter()
            .position(|s| *s == (rule_hash, year))? as u16;
        match p.lists.iter().find(|(s, _)| *s == slot) {
            Some((_, v)) if Arc::ptr_eq(v, &self.failed) => None,
            Some((_, v)) => Some(v.clone()),
            None => Some(self.empty.clone()),
        }
    }

    /// The shared empty result.
    pub fn empty(&self) -> Arc<Vec<Occasion>> {
        self.empty.clone()
    }

    /// The layout for these (rule hash, year) slots, made once.
    pub fn layout(&mut self, slots: &[(u64, i32)]) -> Layout {
        if let Some(i) = self.layouts.iter().position(|l| **l == *slots) {
            return Layout(i as u32);
        }
        self.layouts.push(slots.into());
        Layout(self.layouts.len() as u32 - 1)
    }

    /// The cached evaluations of one person (by internal id).
    pub fn person(&self, internal_id: i64) -> Option<&PersonCache> {
        self.persons.get(&internal_id)
    }

    /// Replaces everything cached for one person: `results[slot]` is the result for
    /// that slot of `layout`, None when its evaluation failed.
    pub fn set_person(
        &mut self,
        internal_id: i64,
        version: i64,
        documents_version: u64,
        layout: &Layout,
        results: &[Option<Arc<Vec<Occasion>>>],
    ) {
        let lists: Box<[(u16, Arc<Vec<Occasion>>)]> = results
            .iter()
            .enumerate()
            .filter_map(|(slot, r)| match r {
                Some(v) if v.is_empty() => None,
                Some(v) => Some((slot as u16, v.clone())),
                None => Some((slot as u16, self.failed.clone())),
            })
            .collect();
        let new = PersonCache {
            version,
            documents_version,
            layout: layout.0,
            lists,
        };
        let count = results.iter().filter(|r| r.is_some()).count();
        self.len += count;
        if let Some(old) = self.persons.insert(internal_id, new) {
            let n = self.layouts[old.layout as usize].len();
            let failed = old
                .lists
                .iter()
                .filter(|(_, v)| Arc::ptr_eq(v, &self.failed))
                .count();
            self.len -= n - failed;
        }
    }

    /// Number of cached (person, rule, year) evaluations.
    pub fn len(&self) -> usize {
        self.len
    }

    fn recount(&mut self) {
        let failed = &self.failed;
        self.len = self
            .persons
            .values()
            .map(|p| {
                self.layouts[p.layout as usize].len()
                    - p.lists
                        .iter()
                        .filter(|(_, v)| Arc::ptr_eq(v, failed))
                        .count()
            })
            .sum();
    }

    /// Number of persons with cached evaluations.
    pub fn persons_len(&self) -> usize {
        self.persons.len()
    }

    /// Keeps only the persons for whom `keep(internal id)` holds.
    pub fn retain_persons(&mut self, keep: impl Fn(i64) -> bool) {
        self.persons.retain(|id, _| keep(*id));
        self.recount();
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes a memo for each (rule hash, year) with these documents and drops the
    /// others (rules changed, documents changed, years gone by).
    pub fn prepare_memos(&mut self, rule_hashes: &[u64], documents_version: u64, years: &[i32]) {
        self.memos.retain(|(rule, docs, year), _| {
            *docs == documents_version && rule_hashes.contains(rule) && years.contains(year)
        });
        for &rule in rule_hashes {
            for &year in years {
                self.memos
                    .entry((rule, documents_version, year))
                    .or_default();
            }
        }
    }

    /// The memo of one (rule hash, documents version, year), once prepared.
    pub fn memo(
        &self,
        rule_hash: u64,
        documents_version: u64,
        year: i32,
    ) -> Option<Arc<std::sync::RwLock<Memo>>> {
        self.memos
            .get(&(rule_hash, documents_version, year))
            .cloned()
    }

    /// Forgets persons whose layout reaches before `year` (the next planning run
    /// evaluates them again, mostly from the memos).
    pub fn retain_from(&mut self, year: i32) {
        let layouts = &self.layouts;
        self.persons
            .retain(|_, p| layouts[p.layout as usize].iter().all(|s| s.1 >= year));
        self.recount();
    }
}
