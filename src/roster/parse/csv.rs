//! CSV text: encoding detection (UTF-8 with or without BOM, else GB18030/GBK, or
//! UTF-16 with a BOM) and an RFC 4180 record reader. Knows nothing of columns.

/// Decodes CSV bytes: UTF-8 first, GB18030 (a superset of GBK) when the bytes are
/// not valid UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return encoding_rs::UTF_16LE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return encoding_rs::UTF_16BE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
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

/// Comma, unless the first line has tabs and no commas (text exported as TSV).
pub(crate) fn sniff_delimiter(text: &str) -> char {
    let first = text.lines().next().unwrap_or("");
    if !first.contains(',') && first.contains('\t') {
        '\t'
    } else {
        ','
    }
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
        assert_eq!(decode(s.as_bytes()), s);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(s.as_bytes());
        assert_eq!(decode(&bom), s);
        let (gbk, _, _) = encoding_rs::GBK.encode(s);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk), s);
        assert_eq!(sniff_delimiter("a\tb\n"), '\t');
        assert_eq!(sniff_delimiter("a,b\n"), ',');
    }
}
