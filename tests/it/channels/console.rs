//! Console sink writing JSON lines to a file.

use qinqing::delivery::channels::{ChannelsConfig, build};

use super::support::*;

#[tokio::test]
async fn appends_one_masked_json_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let cfg: ChannelsConfig =
        toml::from_str(&format!("[console]\npath = {:?}", path.to_str().unwrap())).unwrap();
    let ch = build(&cfg, clock()).unwrap().remove(0);
    assert_eq!(ch.name(), "console");
    let mut c = contact("S001", "张三");
    c.addresses.mobile = Some("13812341234".into());
    let m = outgoing(
        "k1",
        vec![section(c, &["9月20日 李老 走访(家属电话13900001111)"])],
    );
    within(ch.send(&m)).await.unwrap();
    within(ch.send(&m)).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["channel"], "console");
    assert_eq!(v["idempotency_key"], "k1");
    assert_eq!(v["kind"], "digest");
    assert_eq!(v["sections"][0]["staff_no"], "S001");
    assert_eq!(v["sections"][0]["name"], "张三");
    assert!(!text.contains("13812341234"));
    assert!(!text.contains("13900001111"));
    assert!(text.contains("139****1111"));
}
