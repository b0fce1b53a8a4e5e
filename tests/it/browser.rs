//! End to end in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, with the `fantoccini` crate) opens the worklist link of a real
//! digest, presses 已走访 on one item and sees it leave the open list. Saves
//! screenshots of the worklist and the acknowledgement page, 360 px wide, to
//! `target/screenshots/`; with `QINQING_UPDATE_SCREENSHOTS=1` also to
//! `docs/screenshots/`, which the README shows.
//!
//! Needs Debian's `chromium` and `chromium-driver` (and `fonts-noto-cjk` for the
//! Chinese); `.ci/run` installs them. Without chromedriver the test is skipped
//! with a note, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::daemon_support::*;
use crate::links::{item, s002_section, start};
use crate::support::*;

const WIDTH: u32 = 360;

struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/local/bin/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn start_driver(bin: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    wait_for("chromedriver to listen", 30, || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    });
    Driver { child, url }
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--hide-scrollbars",
                "--lang=zh-CN",
            ],
            // Headless Chromium will not make a window narrower than 500 px; a
            // phone's viewport is emulated instead.
            "mobileEmulation": {
                "deviceMetrics": { "width": WIDTH, "height": 1400, "pixelRatio": 1.0 }
            }
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

fn save(name: &str, png: &[u8]) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join(name), png).unwrap();
    if std::env::var_os("QINQING_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), png).unwrap();
    }
}

/// The PNG's width in pixels (bytes 16..20 of the IHDR chunk).
fn png_width(png: &[u8]) -> u32 {
    assert_eq!(&png[1..4], b"PNG", "a PNG");
    u32::from_be_bytes(png[16..20].try_into().unwrap())
}

#[test]
fn a_worklist_link_from_a_digest_is_answered_in_chromium() {
    let Some(bin) = chromedriver() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have chromium and chromium-driver (.ci/run installs them)"
        );
        eprintln!("note: chromedriver not found; the browser test is skipped");
        return;
    };
    // One backend is enough here: the pages are the same on both.
    let db = backends().remove(0);
    let r = start(db);
    let section = s002_section(&r.out);
    let worklist = section["worklist_url"].as_str().unwrap().to_string();
    let birthday = item(&section, "钱学礼");
    let reference = birthday["reference"].as_str().unwrap().to_string();
    let ack = birthday["ack_url"].as_str().unwrap().to_string();
    let driver = start_driver(&bin);

    rt().block_on(async {
        let c = browser(&driver.url).await;
        // The acknowledgement page, as the digest's link opens it.
        c.goto(&ack).await.unwrap();
        let h1 = c
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, "钱学礼");
        let png = c.screenshot().await.unwrap();
        assert_eq!(png_width(&png), WIDTH, "a 360-px-wide phone");
        save("ack.png", &png);

        // The worklist: the birthday is open; press 已走访 on it.
        c.goto(&worklist).await.unwrap();
        let card = format!("#o-{reference}");
        let Ok(found) = c.find(Locator::Css(&card)).await else {
            panic!("no {card} in {}", c.source().await.unwrap());
        };
        let text = found.text().await.unwrap();
        assert!(
            text.contains("80岁寿辰") && text.contains("请于6月24日前走访"),
            "{text}"
        );
        save("worklist.png", &c.screenshot().await.unwrap());
        let button = format!("{card} button[value=visited]");
        let b = c.find(Locator::Css(&button)).await.unwrap();
        assert_eq!(b.text().await.unwrap(), "已走访");
        b.click().await.unwrap();

        // Recorded, and gone from the open list.
        let notice = c
            .wait()
            .for_element(Locator::Css(".notice"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            notice.contains("已记录") && notice.contains("已走访"),
            "{notice}"
        );
        assert!(
            c.find_all(Locator::Css(&card)).await.unwrap().is_empty(),
            "the visited item is still on the open list"
        );
        let body = c.source().await.unwrap();
        assert!(
            body.contains("近30天记录") && body.contains("钱学礼"),
            "{body}"
        );
        c.close().await.unwrap();
    });
    drop(driver);
    drop(r);
}
