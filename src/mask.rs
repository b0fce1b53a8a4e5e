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

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::phone("13812341234"), "138****1234");
        assert_eq!(super::id_number("11010519491231002X"), "1***************2X");
        assert_eq!(super::id_number("11010519491231002X").len(), 18);
    }
}
