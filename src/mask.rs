//! Masking of personal numbers for logs and error messages.

/// `13812341234` → `138****1234`. Short values are fully masked.
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// `11010519491231002X` → `1***************2X`: first character and last two kept.
pub fn id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return "*".repeat(chars.len());
    }
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{}{}{}", chars[0], "*".repeat(chars.len() - 3), tail)
}

/// Masks every run of 11 or more digits (a phone or an ID number, possibly ending
/// in X) inside free text, e.g. a script's print output or an error message.
pub fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j < chars.len() && (chars[j] == 'X' || chars[j] == 'x') && j - i == 17 {
                j += 1;
            }
            let run: String = chars[i..j].iter().collect();
            match j - i {
                11 => out.push_str(&phone(&run)),
                n if n >= 12 => out.push_str(&id_number(&run)),
                _ => out.push_str(&run),
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_numbers_in_text() {
        assert_eq!(
            super::text("call 13812341234 about 11010519491231002X on 2026-09-18"),
            "call 138****1234 about 1***************2X on 2026-09-18"
        );
    }

    #[test]
    fn masks() {
        assert_eq!(super::phone("13812341234"), "138****1234");
        assert_eq!(super::id_number("11010519491231002X"), "1***************2X");
        assert_eq!(super::id_number("11010519491231002X").len(), 18);
    }
}
