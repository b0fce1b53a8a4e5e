//! HTML tables, as many government systems export "Excel" files (an `.xls` that is
//! an HTML page with a `<table>`): the rows and cells of the largest table, with
//! tags stripped and entities decoded. Tolerant of what such exports write
//! (unclosed `<td>`, upper-case tags, attributes, `<br>` inside cells).

/// Whether decoded text is an HTML page rather than CSV.
pub(crate) fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.starts_with("<table")
        || (head.starts_with('<') && head.contains("<table"))
}

/// The rows of the table with the most rows; None when there is no table.
pub(crate) fn largest_table(text: &str) -> Option<Vec<Vec<String>>> {
    let lower = text.to_ascii_lowercase();
    let mut best: Option<Vec<Vec<String>>> = None;
    let mut at = 0;
    while let Some(start) = find_tag(&lower, at, "table") {
        let end = lower[start..]
            .find("</table")
            .map_or(lower.len(), |e| start + e);
        let rows = rows_of(&text[start..end], &lower[start..end]);
        if best.as_ref().is_none_or(|b| rows.len() > b.len()) {
            best = Some(rows);
        }
        at = end.max(start + 1);
    }
    best
}

/// The position of the next `<name` tag (followed by `>`, space or `/`) from `at`.
fn find_tag(lower: &str, mut at: usize, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    while let Some(i) = lower.get(at..)?.find(&open) {
        let pos = at + i;
        let next = lower[pos + open.len()..].chars().next();
        if matches!(next, Some('>' | ' ' | '\t' | '\r' | '\n' | '/')) {
            return Some(pos);
        }
        at = pos + open.len();
    }
    None
}

fn rows_of(text: &str, lower: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag(lower, at, "tr") {
        let next_tr = find_tag(lower, start + 3, "tr").unwrap_or(lower.len());
        let end = lower[start..next_tr]
            .find("</tr")
            .map_or(next_tr, |e| start + e);
        rows.push(cells_of(&text[start..end], &lower[start..end]));
        at = end.max(start + 1);
    }
    rows
}

fn cells_of(text: &str, lower: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut at = 0;
    loop {
        let td = find_tag(lower, at, "td");
        let th = find_tag(lower, at, "th");
        let start = match (td, th) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(x) => x,
                None => break,
            },
        };
        let Some(open_end) = lower[start..].find('>').map(|e| start + e + 1) else {
            break;
        };
        let next = [
            find_tag(lower, open_end, "td"),
            find_tag(lower, open_end, "th"),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(lower.len());
        let close = [
            lower[open_end..next].find("</td"),
            lower[open_end..next].find("</th"),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(next, |e| open_end + e);
        cells.push(cell_text(&text[open_end..close]));
        at = close.max(open_end);
    }
    cells
}

/// A cell's text: `<br>` as a line break, other tags dropped, entities decoded,
/// runs of white space as one space (as a browser shows it).
fn cell_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut chars = html.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '<' {
            let rest = html[i..].to_ascii_lowercase();
            if rest.starts_with("<br") {
                out.push('\n');
            }
            for (_, c) in chars.by_ref() {
                if c == '>' {
                    break;
                }
            }
            continue;
        }
        if c == '&'
            && let Some(semi) = html[i..].find(';').filter(|n| *n <= 10)
            && let Some(ch) = entity(&html[i + 1..i + semi])
        {
            out.push(ch);
            for _ in 0..semi {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    let mut collapsed = String::with_capacity(out.len());
    let mut space = false;
    for c in out.chars() {
        if c == '\n' {
            collapsed.push('\n');
            space = false;
        } else if c.is_whitespace() && c != '\u{3000}' {
            if !space {
                collapsed.push(' ');
            }
            space = true;
        } else {
            collapsed.push(c);
            space = false;
        }
    }
    collapsed.trim().to_string()
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let n = name.strip_prefix('#')?;
            let v = match n.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(v)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_table() {
        let page = "<html><head><meta charset=gb2312><style>td{}</style></head><body>\
            <table><tr><td>说明</td></tr></table>\
            <TABLE border=1><TR><TH>姓名</TH><TH>类别</TH><TD>备注</TD></TR>\
            <tr><td style=\"mso-number-format:'\\@'\">张&nbsp;三</td><td>离休<td>a &amp; b<br>c</tr>\
            <tr><td>&#26446;四</td><td>退休</td><td></td></tr></TABLE></body></html>";
        assert!(looks_like_html(page));
        let rows = largest_table(page).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], ["姓名", "类别", "备注"]);
        assert_eq!(rows[1], ["张 三", "离休", "a & b\nc"]);
        assert_eq!(rows[2], ["李四", "退休", ""]);
        assert!(!looks_like_html("姓名,类别\n张三,离休\n"));
    }
}
