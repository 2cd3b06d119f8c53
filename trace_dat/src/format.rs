//! The `format` files of tracefs as the trace.dat stores them: where each
//! field of an event (and of the ring buffer's page header) lies.

use crate::bytes::Endian;

/// One `field:TYPE NAME; offset:N; size:N; signed:N;` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The declaration as written (`unsigned long ip`, `char comm[16]`).
    pub decl: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

impl Field {
    /// The field as an unsigned number (1, 2, 4 or 8 bytes); `None` if the
    /// event's data is too short or the size is another.
    pub fn uint(&self, data: &[u8], e: Endian) -> Option<u64> {
        e.uint(data, self.offset, self.size)
    }

    /// A fixed-size character array (`char comm[16]`) up to its NUL.
    pub fn str<'a>(&self, data: &'a [u8]) -> Option<&'a [u8]> {
        let b = data.get(self.offset..self.offset.checked_add(self.size)?)?;
        Some(&b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())])
    }
}

/// An event's `format` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFormat {
    /// The events directory it came from (`ftrace` for the tracers' own).
    pub system: String,
    pub name: String,
    pub id: u16,
    /// The common fields first, as in the file.
    pub fields: Vec<Field>,
}

impl EventFormat {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The field name of a declaration: its last word, without an array
/// suffix or pointer stars (`char comm[16]` -> `comm`,
/// `__data_loc char[] name` -> `name`).
fn field_name(decl: &str) -> &str {
    let d = decl.trim();
    let d = match d.rfind(|c: char| c.is_whitespace()) {
        Some(i) => &d[i + 1..],
        None => d,
    };
    let d = d.split('[').next().unwrap_or(d);
    d.trim_start_matches('*')
}

fn number(part: &str, key: &str) -> Option<usize> {
    part.trim().strip_prefix(key)?.trim().parse().ok()
}

/// The `field:` lines of a format text (also the page header's, which has
/// only these).
pub fn parse_fields(text: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("field:") else {
            continue;
        };
        let mut parts = rest.split(';');
        let decl = parts.next().unwrap_or("").trim();
        let (mut offset, mut size, mut signed) = (None, None, false);
        for p in parts {
            if let Some(n) = number(p, "offset:") {
                offset = Some(n);
            } else if let Some(n) = number(p, "size:") {
                size = Some(n);
            } else if let Some(n) = number(p, "signed:") {
                signed = n != 0;
            }
        }
        let (Some(offset), Some(size)) = (offset, size) else {
            return Err(format!("field line without offset and size: {line:?}"));
        };
        fields.push(Field {
            name: field_name(decl).to_string(),
            decl: decl.to_string(),
            offset,
            size,
            signed,
        });
    }
    Ok(fields)
}

/// One event's `format` text: `name:`, `ID:` and its fields.
pub fn parse_event(system: &str, text: &str) -> Result<EventFormat, String> {
    let mut ev = EventFormat {
        system: system.to_string(),
        ..EventFormat::default()
    };
    let mut id = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name:") {
            ev.name = n.trim().to_string();
        } else if let Some(n) = line.strip_prefix("ID:") {
            id = n.trim().parse().ok();
        }
    }
    ev.id = id.ok_or_else(|| format!("event format {:?} without a valid ID", ev.name))?;
    ev.fields = parse_fields(text)?;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FUNCTION: &str = "name: function
ID: 1
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:unsigned long parent_ip;\toffset:16;\tsize:8;\tsigned:0;

print fmt: \" %ps <-- %ps\", (void *)REC->ip, (void *)REC->parent_ip
";

    #[test]
    fn function_format() {
        let ev = parse_event("ftrace", FUNCTION).unwrap();
        assert_eq!((ev.name.as_str(), ev.id), ("function", 1));
        let names: Vec<&str> = ev.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "common_type",
                "common_flags",
                "common_preempt_count",
                "common_pid",
                "ip",
                "parent_ip"
            ]
        );
        let pid = ev.field("common_pid").unwrap();
        assert_eq!((pid.offset, pid.size, pid.signed), (4, 4, true));
        let mut data = vec![0u8; 24];
        data[16] = 0x34;
        data[17] = 0x12;
        let e = Endian { big: false };
        assert_eq!(ev.field("parent_ip").unwrap().uint(&data, e), Some(0x1234));
        assert_eq!(ev.field("parent_ip").unwrap().uint(&data[..20], e), None);
    }

    #[test]
    fn names_of_arrays_and_dynamic_fields() {
        assert_eq!(field_name("char comm[16]"), "comm");
        assert_eq!(field_name("__data_loc char[] name"), "name");
        assert_eq!(field_name("const char * fmt"), "fmt");
        assert_eq!(field_name("void *ptr"), "ptr");
        let f = Field {
            name: "comm".into(),
            decl: "char comm[16]".into(),
            offset: 1,
            size: 4,
            signed: false,
        };
        assert_eq!(f.str(b"xab\0c"), Some(&b"ab"[..]));
        assert_eq!(f.str(b"xab"), None);
    }

    #[test]
    fn damaged_formats() {
        assert!(parse_event("s", "name: x\nformat:\n").is_err());
        assert!(parse_event("s", "name: x\nID: 3\n\tfield:int a;\toffset:8;\n").is_err());
        assert!(parse_event("s", "name: x\nID: 99999999\n").is_err());
    }
}
