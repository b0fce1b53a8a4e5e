//! The roster prepared for planning: active persons cut down to what rules read,
//! built in parallel from streamed rows, with staff and documents.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::roster::Staff;
use crate::roster::{Document, PlanRow, RosterSnapshot, StaffRecord};
use crate::rules::{Interner, PersonData, SharedDocuments};

/// The roster prepared for rule evaluation.
pub struct PlanningRoster {
    pub persons: Vec<Arc<PersonData>>,
    pub versions: Vec<i64>,
    pub staff: HashMap<String, Staff>,
    pub documents_version: u64,
}

impl PlanningRoster {
    /// Active persons only; inactive ones are not covered by any rule. (The tick and
    /// `preview` stream the roster instead: `Store::plan_rows` into [`PlanningRosterBuilder`].)
    pub fn from_snapshot(s: &RosterSnapshot, documents: Vec<Document>) -> PlanningRoster {
        let mut events =
            events_by_person(s.events.iter().map(|e| (e.person_id, e.kind.clone(), e.on)));
        let persons: Vec<PlanRow> = s
            .persons
            .iter()
            .filter(|sp| sp.active)
            .map(|sp| {
                let evs = events.remove(&sp.id).unwrap_or_default();
                PlanRow {
                    id: sp.id,
                    version: sp.version,
                    person: sp.person.clone(),
                    events: evs,
                }
            })
            .collect();
        PlanningRoster::from_rows(persons.into_par_iter(), &s.staff, documents)
    }

    /// From active persons as they come (id, version, person, events in date order):
    /// each is cut down to what planning needs as it arrives, so a caller streaming
    /// rows never holds every full person at once.
    pub fn from_rows(
        persons: impl ParallelIterator<Item = PlanRow>,
        staff: &[StaffRecord],
        documents: Vec<Document>,
    ) -> PlanningRoster {
        let mut b = PlanningRosterBuilder::new(documents);
        b.add(persons);
        b.finish(staff)
    }
}

/// Builds a [`PlanningRoster`] from batches of rows (see `Store::plan_rows`).
pub struct PlanningRosterBuilder {
    documents: SharedDocuments,
    documents_version: u64,
    persons: Vec<Arc<PersonData>>,
    versions: Vec<i64>,
}

impl PlanningRosterBuilder {
    pub fn new(documents: Vec<Document>) -> PlanningRosterBuilder {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for d in &documents {
            (
                d.id,
                &d.title,
                d.issued_on,
                d.deadline,
                d.min_rank.map(|r| r as i64),
            )
                .hash(&mut h);
            for c in &d.audience {
                c.as_str().hash(&mut h);
            }
        }
        PlanningRosterBuilder {
            documents_version: h.finish(),
            documents: SharedDocuments::new(Arc::new(documents)),
            persons: Vec::new(),
            versions: Vec::new(),
        }
    }

    /// Adds active persons, cut down to what planning needs, in parallel.
    pub fn add(&mut self, persons: impl ParallelIterator<Item = PlanRow>) {
        let documents = &self.documents;
        // Each rayon job interns the words it meets (communities, staff numbers…).
        let built: Vec<(Arc<PersonData>, i64)> = persons
            .map_init(Interner::default, |words, row| {
                let PlanRow {
                    id,
                    version,
                    person,
                    events,
                } = row;
                let p = PersonData::interning(id, person, true, events, documents, words);
                (Arc::new(p), version)
            })
            .collect();
        self.persons.reserve(built.len());
        self.versions.reserve(built.len());
        for (p, v) in built {
            self.persons.push(p);
            self.versions.push(v);
        }
    }

    pub fn finish(self, staff: &[StaffRecord]) -> PlanningRoster {
        let staff = staff
            .iter()
            .map(|st| (st.staff.number.clone(), st.staff.clone()))
            .collect();
        PlanningRoster {
            persons: self.persons,
            versions: self.versions,
            staff,
            documents_version: self.documents_version,
        }
    }
}

fn events_by_person(
    events: impl Iterator<Item = (i64, String, NaiveDate)>,
) -> HashMap<i64, Vec<(String, NaiveDate)>> {
    let mut by_person: HashMap<i64, Vec<(String, NaiveDate)>> = HashMap::new();
    for (id, kind, on) in events {
        by_person.entry(id).or_default().push((kind, on));
    }
    by_person
}
