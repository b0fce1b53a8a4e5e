//! Plain-text tables for the terminal: columns padded to the widest cell, counting
//! Chinese characters as two columns.

use unicode_width::UnicodeWidthStr;

/// The table as lines: the header, then the rows; the last column is not padded.
pub fn render<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.as_ref().width());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let n = cells.len();
        cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == n {
                    c.to_string()
                } else {
                    format!("{c}{}", " ".repeat(widths[i].saturating_sub(c.width())))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(AsRef::as_ref).collect()));
        out.push('\n');
    }
    out
}
