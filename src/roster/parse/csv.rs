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

/// Parsed records. Each record keeps its number (1-based, counting the file's lines
/// minus the line breaks inside quoted fields, so it matches the row number a
/// spreadsheet shows). Empty lines are skipped but still counted.
pub(crate) struct Records {
    pub rows: Vec<(usize, Vec<String>)>,
    /// The file ended inside a quoted field.
    pub unterminated_quote: bool,
}

/// Reads RFC 4180 records with the `csv` crate: fields separated by `delim`, records
/// by CRLF, LF or CR, quoted fields may hold separators, line breaks and doubled
/// quotes; rows may have any number of fields.
pub(crate) fn read_records(text: &str, delim: char) -> Records {
    // A file with only CR line ends (old Mac Excel) counts its rows by CR.
    let text: std::borrow::Cow<str> = if !text.contains('\n') && text.contains('\r') {
        text.replace('\r', "\n").into()
    } else {
        text.into()
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(u8::try_from(delim).unwrap_or(b','))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // The reader's own line numbers skip blank lines and lag after CRLF, so the row
    // number is counted here: the line breaks before the record's first byte.
    let bytes = text.as_bytes();
    let (mut cursor, mut line) = (0usize, 1usize);
    // Line breaks inside quoted fields so far: a spreadsheet counts them as one row.
    let mut inside = 0usize;
    let mut last_spans_lines = false;
    let mut record = ::csv::StringRecord::new();
    // The input is a &str, so reading cannot fail on encoding; any other error
    // ends the records read so far.
    while let Ok(true) = reader.read_record(&mut record) {
        let mut start = record.position().map_or(0, |p| p.byte() as usize);
        // The position may point at the rest of the previous line end.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytes[cursor.min(start)..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        cursor = start;
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        let breaks: usize = fields.iter().map(|f| f.matches('\n').count()).sum();
        last_spans_lines = breaks > 0;
        rows.push((line - inside, fields));
        inside += breaks;
    }
    // Quotes come in pairs in well-formed CSV; an odd count with a last record that
    // swallowed line breaks means the file ended inside quotes.
    let unterminated_quote = last_spans_lines && text.matches('"').count() % 2 == 1;
    Records {
        rows,
        unterminated_quote,
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
        // The empty line is skipped but counted: the next record is row 4, as a
        // spreadsheet shows it.
        assert_eq!(r[2], (4, vec!["1".into(), "2".into(), "3".into()]));
        assert_eq!(r.len(), 3);
        // Trailing newline does not add a record; empty trailing field is kept.
        assert_eq!(rows("a,\n"), vec![(1, vec!["a".into(), "".into()])]);
        assert!(read_records("a,b\n\"abc\ndef", ',').unterminated_quote);
        assert!(!read_records("a,\"b\"\"c\"\n", ',').unterminated_quote);
        // Old Mac line ends.
        assert_eq!(rows("a\rb\r")[1], (2, vec!["b".to_string()]));
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
