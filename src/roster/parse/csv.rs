//! CSV text: encoding detection (UTF-8 with or without BOM, else GB18030/GBK, or
//! UTF-16 with a BOM) and an RFC 4180 record reader. Knows nothing of columns.

/// Decoded text and the lines (1-based) that were not in the file's encoding.
pub(crate) struct Decoded {
    pub text: String,
    /// Lines of a mostly UTF-8 file that are not valid UTF-8 (GBK text pasted in):
    /// each becomes an empty line and a row error, not a garbled row.
    pub bad_lines: Vec<usize>,
}

/// Decodes CSV bytes: UTF-16 or UTF-8 by their BOM; UTF-8 when the bytes are; GB18030
/// (a superset of GBK) when they are not. A file whose non-ASCII lines are mostly
/// valid UTF-8 is read as UTF-8, and each line that is not is reported instead of
/// decoding the whole file as GBK.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let whole = |text: String| Decoded {
        text,
        bad_lines: Vec::new(),
    };
    if bytes.starts_with(b"\xFF\xFE") {
        return whole(
            encoding_rs::UTF_16LE
                .decode_with_bom_removal(bytes)
                .0
                .into_owned(),
        );
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return whole(
            encoding_rs::UTF_16BE
                .decode_with_bom_removal(bytes)
                .0
                .into_owned(),
        );
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF");
    let bom = body.is_some();
    let body = body.unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return whole(s.to_string());
    }
    // Which encoding do the non-ASCII lines speak?
    let (mut utf8, mut other) = (0usize, 0usize);
    for line in body.split(|b| *b == b'\n') {
        if line.is_ascii() {
            continue;
        }
        if std::str::from_utf8(line).is_ok() {
            utf8 += 1;
        } else {
            other += 1;
        }
    }
    if !bom && utf8 <= other {
        return whole(
            encoding_rs::GB18030
                .decode_without_bom_handling(body)
                .0
                .into_owned(),
        );
    }
    let mut text = String::with_capacity(body.len());
    let mut bad_lines = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            text.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(s) => text.push_str(s),
            Err(_) => {
                bad_lines.push(i + 1);
                if line.ends_with(b"\r") {
                    text.push('\r');
                }
            }
        }
    }
    Decoded { text, bad_lines }
}

/// Parsed records. Each record keeps its number (1-based, counting every record
/// including empty lines, so it matches the row number a spreadsheet shows).
pub(crate) struct Records {
    pub rows: Vec<(usize, Vec<String>)>,
    /// The file ended inside a quoted field.
    pub unterminated_quote: bool,
}

/// Reads RFC 4180 records: fields separated by `delim`, records by CRLF, LF or CR,
/// quoted fields may hold separators, line breaks and doubled quotes.
pub(crate) fn read_records(text: &str, delim: char) -> Records {
    let mut rows = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut number = 1usize;
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    // Whether the current field started with a quote (text after the closing quote
    // is kept, as spreadsheets do).
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                any = true;
            }
            c if c == delim => {
                record.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                rows.push((number, std::mem::take(&mut record)));
                number += 1;
                any = false;
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if any || !field.is_empty() || !record.is_empty() {
        record.push(field);
        rows.push((number, record));
    }
    Records {
        rows,
        unterminated_quote: in_quotes,
    }
}

/// Comma, unless the first lines (a title may come first) have tabs and no commas
/// (text exported as TSV).
pub(crate) fn sniff_delimiter(text: &str) -> char {
    let (mut tabs, mut commas) = (0, 0);
    for line in text.lines().take(10) {
        if line.contains('\t') && !line.contains(',') {
            tabs += 1;
        } else if line.contains(',') {
            commas += 1;
        }
    }
    if tabs > commas { '\t' } else { ',' }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(s: &str) -> Vec<(usize, Vec<String>)> {
        read_records(s, ',').rows
    }

    #[test]
    fn rfc4180() {
        let r = rows("a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\"line1\nline2\"\n\n1,2,3");
        assert_eq!(r[0], (1, vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(
            r[1],
            (
                2,
                vec!["x,1".into(), "he said \"hi\"".into(), "line1\nline2".into()]
            )
        );
        assert_eq!(r[2], (3, vec!["".to_string()]));
        assert_eq!(r[3], (4, vec!["1".into(), "2".into(), "3".into()]));
        assert_eq!(r.len(), 4);
        // Trailing newline does not add a record; empty trailing field is kept.
        assert_eq!(rows("a,\n"), vec![(1, vec!["a".into(), "".into()])]);
        assert!(read_records("\"abc", ',').unterminated_quote);
    }

    #[test]
    fn encodings() {
        let s = "姓名,类别\n张三,离休\n";
        assert_eq!(decode(s.as_bytes()).text, s);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(s.as_bytes());
        assert_eq!(decode(&bom).text, s);
        let (gbk, _, _) = encoding_rs::GBK.encode(s);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).text, s);
        // Mostly UTF-8 with one GBK line: that line is reported, the rest kept.
        let mut mixed = "姓名,类别\n张三,离休\n李四,退休\n".as_bytes().to_vec();
        mixed.extend_from_slice(&encoding_rs::GBK.encode("王五,离休\n").0);
        let d = decode(&mixed);
        assert_eq!(d.bad_lines, [4]);
        assert!(d.text.starts_with("姓名,类别\n张三,离休\n李四,退休\n"));
        assert_eq!(sniff_delimiter("a\tb\n"), '\t');
        assert_eq!(sniff_delimiter("a,b\n"), ',');
    }
}
