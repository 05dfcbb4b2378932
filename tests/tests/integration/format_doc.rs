//! FORMAT.md's tables say what the code says: the prose specification and
//! `lmlog-format`'s constants cannot drift apart.

use lmlog_format::{FrameKind, TypeTag};

fn format_md() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../FORMAT.md")).unwrap()
}

/// The rows of the Markdown table whose header row starts with `header`,
/// as trimmed cells.
fn table(doc: &str, header: &str) -> Vec<Vec<String>> {
    let start = doc.find(header).unwrap_or_else(|| panic!("FORMAT.md has no table `{header}`"));
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect())
        .collect()
}

#[test]
fn the_type_descriptor_table_lists_every_tag() {
    let rows = table(&format_md(), "| tag | type |");
    assert_eq!(rows.len(), TypeTag::ALL.len());
    for (row, tag) in rows.iter().zip(TypeTag::ALL) {
        assert_eq!(row[0], (tag as u8).to_string());
        assert_eq!(row[1].replace(' ', ""), format!("{tag:?}").to_lowercase(), "{row:?}");
    }
}

#[test]
fn the_frame_kind_table_lists_every_kind() {
    let doc = format_md();
    let rows = table(&doc, "| kind | name");
    assert_eq!(rows.len(), FrameKind::ALL.len());
    for (row, kind) in rows.iter().zip(FrameKind::ALL) {
        assert_eq!(row[0], (kind as u8).to_string());
        assert_eq!(row[1].to_lowercase(), kind.name().replace('_', ""), "{row:?}");
    }
    assert!(doc.starts_with(&format!("# lmlog binary format, version {}", lmlog_format::FORMAT_VERSION)));
}
