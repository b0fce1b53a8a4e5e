//! The store through the binary, on every backend: an import is an idempotent upsert,
//! and what is stored reads back equal to what was parsed.

use crate::support::{Roster, backends, fixture, import, person_count, qinqing, t};

/// Re-running the same import changes nothing: every stored person reads back equal
/// to the parsed one (all columns, dates, flags, lunar dates, staff order).
#[test]
fn same_import_twice_is_unchanged() {
    for db in backends() {
        let roster = fixture("roster.xlsx");
        let first = import(&db, &roster, &[]).ok();
        assert!(
            first
                .stdout
                .contains("44 added, 0 changed, 0 unchanged, 12 staff"),
            "[{}] {}",
            db.name(),
            first.stdout
        );
        let second = import(&db, &roster, &[]).ok();
        assert!(
            second.stdout.contains("0 added, 0 changed, 44 unchanged"),
            "[{}] {}",
            db.name(),
            second.stdout
        );
        assert!(
            second.stdout.contains("0 event(s) recorded"),
            "[{}] {}",
            db.name(),
            second.stdout
        );
        assert_eq!(person_count(&db), 44, "[{}]", db.name());
    }
}

/// Documents and contacts round-trip on every backend.
#[test]
fn documents_and_contacts_are_stored() {
    for db in backends() {
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        qinqing(&db)
            .args([
                "doc",
                "add",
                "--title",
                "测试文件",
                "--issued",
                "2026-03-02",
                "--deadline",
                "2026-03-20",
                "--audience",
                "离休",
                "--min-rank",
                "副处级",
            ])
            .run()
            .ok();
        let list = qinqing(&db)
            .args(["doc", "list", "--format", "json"])
            .run()
            .ok();
        let docs = list.json_lines();
        assert_eq!(docs.len(), 1, "[{}] {}", db.name(), list.stdout);
        assert_eq!(docs[0]["title"], "测试文件");
        assert_eq!(docs[0]["issued_on"], "2026-03-02");
        assert_eq!(docs[0]["deadline"], "2026-03-20");

        // A contact for an unknown person or staff member is refused.
        qinqing(&db)
            .args([
                "contact",
                "add",
                "--person",
                "110105194912310021",
                "--staff",
                "S004",
            ])
            .args(["--kind", "call"])
            .run()
            .fails();
        qinqing(&db)
            .args([
                "contact",
                "add",
                "--person",
                "411102192601200417",
                "--staff",
                "S999",
            ])
            .args(["--kind", "call"])
            .run()
            .fails();
        // By 编号, lower case, defaulting to today (QINQING_NOW).
        let ok = qinqing(&db)
            .args(["contact", "add", "--person", "lg0005", "--staff", "S004"])
            .args(["--kind", "visit"])
            .run()
            .ok();
        assert!(
            ok.stdout.contains("2026-03-01"),
            "[{}] {}",
            db.name(),
            ok.stdout
        );
    }
}

/// `QINQING_NOW` in UTC still means the China civil date: 17:30Z on 28 February is
/// 1 March in Beijing, so a contact logged "today" is on 2026-03-01.
#[test]
fn today_is_the_china_civil_date() {
    for db in backends() {
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let out = qinqing(&db)
            .now("2026-02-28T17:30:00Z")
            .args(["contact", "add", "--person", "LG0005", "--staff", "S004"])
            .args(["--kind", "call"])
            .run()
            .ok();
        assert!(
            out.stdout.contains("on 2026-03-01"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        // …and it satisfies March's monthly call, not February's.
        let stages = crate::support::preview(
            &db,
            "2026-02-01",
            "2026-03-31",
            &["--person", "LG0005", "--rule", "monthly-call"],
        );
        let esc: Vec<&str> = stages
            .iter()
            .filter(|s| s["stage"] == "escalate")
            .map(|s| s["occasion_on"].as_str().unwrap())
            .collect();
        assert!(
            esc.iter().any(|d| d.starts_with("2026-02")),
            "[{}] {esc:?}",
            db.name()
        );
        assert!(
            !esc.iter().any(|d| d.starts_with("2026-03")),
            "[{}] {esc:?}",
            db.name()
        );
    }
}

/// The tick's streamed roster: every active person, in batches, with staff and events
/// attached and nothing of the contact details, equal to the full load otherwise.
#[test]
fn plan_rows_stream_the_active_persons_without_contact_details() {
    use qinqing::store::Store;
    for db in backends() {
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (full, batches) = rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            let full = store.load_roster().await.unwrap();
            let mut batches = Vec::new();
            store.plan_rows(5, |b| batches.push(b)).await.unwrap();
            (full, batches)
        });
        assert!(batches.iter().all(|b| b.len() <= 5 && !b.is_empty()));
        let rows: Vec<_> = batches.into_iter().flatten().collect();
        let active: Vec<_> = full.persons.iter().filter(|p| p.active).collect();
        assert_eq!(rows.len(), active.len(), "[{}]", db.name());
        assert!(rows.len() > 30, "[{}] {}", db.name(), rows.len());
        for (row, want) in rows.iter().zip(&active) {
            let (id, version, person, events) = (&row.id, &row.version, &row.person, &row.events);
            assert_eq!((*id, *version), (want.id, want.version), "[{}]", db.name());
            let mut lean = want.person.clone();
            lean.phone = None;
            lean.family_phone = None;
            lean.address = None;
            lean.former_unit = None;
            lean.health = None;
            assert_eq!(*person, lean, "[{}]", db.name());
            let want_events: Vec<_> = full
                .events
                .iter()
                .filter(|e| e.person_id == *id)
                .map(|e| (e.kind.clone(), e.on))
                .collect();
            assert_eq!(*events, want_events, "[{}]", db.name());
        }
        assert!(
            rows.iter().any(|r| !r.person.staff.is_empty())
                && active.iter().any(|p| p.person.phone.is_some()),
            "[{}] the fixture has staff and phones",
            db.name()
        );
    }
}

/// Two daemons on one PostgreSQL database: while one holds the planning lock the
/// other's tick is skipped (and says so); then it plans. SQLite always plans.
#[test]
fn only_one_daemon_plans_at_a_time() {
    use qinqing::calendar::WorkCalendar;
    use qinqing::rules::RuleSet;
    use qinqing::service::plan::Planning as Planner;
    use qinqing::store::{PLANNING_LOCK, Store};
    use std::sync::Arc;
    for db in backends() {
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            let rules = Arc::new(RuleSet::builtin(WorkCalendar::builtin()));
            let now = "2026-09-18T08:30:00+08:00".parse().unwrap();
            if db.name() == "postgres" {
                let other = Store::connect(db.url()).await.unwrap();
                let mut conn = other.pool().acquire().await.unwrap();
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(PLANNING_LOCK)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert!(got);
                let r = Planner::default()
                    .tick(&store, rules.clone(), now, 7)
                    .await
                    .unwrap();
                assert!(r.skipped && r.planned == 0, "{r:?}");
                let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                    .bind(PLANNING_LOCK)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
            }
            let r = Planner::default()
                .tick(&store, rules, now, 7)
                .await
                .unwrap();
            assert!(!r.skipped && r.planned > 0, "[{}] {r:?}", db.name());
        });
    }
}

/// The daemon keeps the planning roster between ticks and reads it again only when
/// the store's change stamp moves (here: a document is registered), and on a new day.
#[test]
fn the_planning_roster_is_read_again_only_after_a_change() {
    use qinqing::roster::NewDocument;
    use qinqing::service::plan::Planning as Planner;
    use qinqing::store::Store;
    use std::sync::Arc;
    for db in backends() {
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            let planner = Planner::default();
            let day: chrono::NaiveDate = "2026-03-02".parse().unwrap();
            let at = qinqing::clock::FixedClock::parse("2026-03-02T08:30:00+08:00")
                .unwrap()
                .0;
            let a = planner.roster(&store, day).await.unwrap();
            let b = planner.roster(&store, day).await.unwrap();
            assert!(
                Arc::ptr_eq(&a, &b),
                "[{}] unchanged store: same roster",
                db.name()
            );
            store
                .add_document(
                    &NewDocument {
                        title: "通知".into(),
                        issued_on: "2026-03-02".parse().unwrap(),
                        deadline: "2026-03-20".parse().unwrap(),
                        audience: vec![qinqing::roster::Category::Lixiu],
                        min_rank: None,
                    },
                    at,
                )
                .await
                .unwrap();
            let c = planner.roster(&store, day).await.unwrap();
            assert!(
                !Arc::ptr_eq(&b, &c),
                "[{}] a new document: read again",
                db.name()
            );
            assert_ne!(b.documents_version, c.documents_version);
            assert_eq!(b.persons.len(), c.persons.len());
            let next_day = planner
                .roster(&store, day.succ_opt().unwrap())
                .await
                .unwrap();
            assert!(!Arc::ptr_eq(&c, &next_day), "[{}] a new day", db.name());
            // An event recorded for a person moves the stamp (its version is bumped).
            let stamp = store.change_stamp().await.unwrap();
            store
                .record_person_event(
                    c.persons[0].internal_id,
                    "complaint",
                    day,
                    None,
                    qinqing::roster::reconcile::EventEffect::Nothing,
                    at,
                )
                .await
                .unwrap();
            assert_ne!(
                store.change_stamp().await.unwrap(),
                stamp,
                "[{}]",
                db.name()
            );
        });
    }
}

/// On PostgreSQL every connection of the store asks the server to check for a
/// closed client every 5 s, so a daemon killed in the middle of a statement
/// (holding the planning lock) loses its locks within seconds.
#[test]
fn postgres_connections_check_for_a_dead_client() {
    use qinqing::store::Store;
    for db in backends() {
        if db.name() != "postgres" {
            continue;
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            let v: String =
                sqlx::query_scalar("SELECT current_setting('client_connection_check_interval')")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            assert_eq!(v, "5s");
        });
    }
}

/// Text COPY would misread (backslashes, tabs, line breaks, a literal `\N`) is stored
/// as written on every backend (PostgreSQL imports persons with COPY through a staging
/// table, which the import leaves empty), and a re-import finds nothing changed.
#[test]
fn awkward_text_survives_the_import() {
    use qinqing::store::Store;
    let addresses = [
        "C:\\老干部\\1号楼",
        "幸福街\t3号",
        "第一行\n第二行\r\n第三行",
        "\\N",
        "\\.",
    ];
    for db in backends() {
        let mut r = Roster::synthetic(addresses.len() + 1);
        r.persons.add_column("住址");
        for (i, a) in addresses.iter().enumerate() {
            r.persons.set(i, "住址", t(*a));
        }
        let file = db.path("roster.xlsx");
        r.write_xlsx(&file);
        let first = import(&db, &file, &[]).ok();
        assert!(
            first.stdout.contains("6 added"),
            "[{}] {}",
            db.name(),
            first.stdout
        );
        let again = import(&db, &file, &[]).ok();
        assert!(
            again.stdout.contains("0 added, 0 changed, 6 unchanged"),
            "[{}] {}",
            db.name(),
            again.stdout
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::connect(db.url()).await.unwrap();
            for (i, a) in addresses.iter().enumerate() {
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT address FROM persons WHERE pkey = $1")
                        .bind(r.id(i))
                        .fetch_one(store.pool())
                        .await
                        .unwrap();
                assert_eq!(stored.as_deref(), Some(*a), "[{}] row {i}", db.name());
            }
            let last: Option<String> =
                sqlx::query_scalar("SELECT address FROM persons WHERE pkey = $1")
                    .bind(r.id(addresses.len()))
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            assert_eq!(last, None, "[{}] an empty cell is NULL", db.name());
            if db.name() == "postgres" {
                let staged: i64 = sqlx::query_scalar("SELECT count(*) FROM import_persons")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                assert_eq!(staged, 0, "the import leaves nothing staged");
            }
        });
    }
}
