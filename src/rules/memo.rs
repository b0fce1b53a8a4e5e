//! The memo: one rule's results for one year, shared between persons whose reads of
//! the person give the same values.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Occasion, PersonData, api};

/// Results of one rule for one year shared between persons who read the same.
///
/// `occasions(p, year)` is pure and learns about `p` only through recorded reads
/// ([`api::Read`]), so two persons whose reads return the same values get the same
/// occasions. The memo is a decision tree over those reads: walking it for a person
/// answers each read natively (no script) until a stored result or an unseen value;
/// only then does the script run, and its trace extends the tree. A rule that only
/// looks at category, rank and a few flags runs a handful of times for a whole
/// roster; one that reads every person's name runs for everyone, as before. The
/// tree stops growing at [`MEMO_MAX_NODES`].
#[derive(Default)]
pub struct Memo {
    nodes: Vec<MemoNode>,
    root: Option<u32>,
}

/// Nodes above which a memo stops growing (lookups go on).
pub const MEMO_MAX_NODES: usize = 250_000;

enum MemoNode {
    Ask {
        read: api::Read,
        next: HashMap<api::Val, u32>,
    },
    Done(Arc<Vec<Occasion>>),
}

impl Memo {
    /// The stored result for this person, if another person's reads matched theirs.
    pub fn lookup(&self, person: &PersonData) -> Option<Arc<Vec<Occasion>>> {
        let mut at = self.root?;
        loop {
            match &self.nodes[at as usize] {
                MemoNode::Done(r) => return Some(r.clone()),
                MemoNode::Ask { read, next } => at = *next.get(&api::read(person, read))?,
            }
        }
    }

    /// Stores the result of an evaluation with its trace. Returns false when it was
    /// not stored (the memo is full, or the trace disagrees with the tree, which a
    /// pure script cannot do).
    pub fn insert(&mut self, trace: api::Trace, result: Arc<Vec<Occasion>>) -> bool {
        self.insert_steps(Memo::steps(trace), result)
    }

    /// A trace without its repeated reads (a read repeated in one evaluation gives
    /// the same value: the first is kept). Done before taking the memo's lock.
    pub fn steps(trace: api::Trace) -> api::Trace {
        let mut seen = std::collections::HashSet::with_capacity(trace.len());
        trace
            .into_iter()
            .filter(|(r, _)| seen.insert(r.clone()))
            .collect()
    }

    /// As [`Memo::insert`], for a trace already through [`Memo::steps`].
    pub fn insert_steps(&mut self, steps: api::Trace, result: Arc<Vec<Occasion>>) -> bool {
        if self.nodes.len() + steps.len() + 1 > MEMO_MAX_NODES {
            return false;
        }
        let mut at = self.root;
        let mut parent: Option<(u32, api::Val)> = None;
        for (r, v) in steps {
            let here = match at {
                Some(i) => match &self.nodes[i as usize] {
                    MemoNode::Ask { read, .. } if *read == r => i,
                    _ => return false,
                },
                None => self.add(
                    MemoNode::Ask {
                        read: r,
                        next: HashMap::new(),
                    },
                    parent.take(),
                ),
            };
            at = match &self.nodes[here as usize] {
                MemoNode::Ask { next, .. } => next.get(&v).copied(),
                MemoNode::Done(_) => unreachable!("checked above"),
            };
            parent = Some((here, v));
        }
        match at {
            Some(i) => matches!(self.nodes[i as usize], MemoNode::Done(_)),
            None => {
                self.add(MemoNode::Done(result), parent);
                true
            }
        }
    }

    fn add(&mut self, node: MemoNode, parent: Option<(u32, api::Val)>) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(node);
        match parent {
            None => self.root = Some(i),
            Some((p, v)) => {
                if let MemoNode::Ask { next, .. } = &mut self.nodes[p as usize] {
                    next.insert(v, i);
                }
            }
        }
        i
    }

    /// Number of tree nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}
