//! Documents (三必须: every document a retiree should see reaches them): who must
//! receive one, and by when. Plain data; stored by `store`, read by the rules.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Category, Rank};

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub id: i64,
    pub title: String,
    pub issued_on: NaiveDate,
    pub deadline: NaiveDate,
    pub audience: Vec<Category>,
    pub min_rank: Option<Rank>,
}

/// A document to record (`qinqing doc add`).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub issued_on: NaiveDate,
    pub deadline: NaiveDate,
    pub audience: Vec<Category>,
    pub min_rank: Option<Rank>,
}
