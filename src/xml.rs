//! A small XML tree (elements by local name, text, attributes), read with
//! quick-xml and bounded in depth and size: ISDOC invoices and WebDAV
//! answers. Pure; never panics.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use quick_xml::events::Event;

/// Why XML could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("{0}")]
    Malformed(String),
    #[error("it is nested too deep or holds too many elements")]
    TooLarge,
}

/// An XML element: its qualified name, local name, attributes, text and
/// children.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub qname: String,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }

    /// The trimmed text at a path; `None` when absent or empty.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.path(path).map(|n| n.text.trim()).filter(|t| !t.is_empty())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| split_qname(k).1 == name).map(|(_, v)| v.as_str())
    }

    /// The first descendant with this local name, depth first.
    pub fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| if c.name == name { Some(c) } else { c.find(name) })
    }
}

pub fn split_qname(q: &str) -> (Option<&str>, &str) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, q),
    }
}

pub fn element_parts(e: &quick_xml::events::BytesStart<'_>) -> (String, Vec<(String, String)>) {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(v) => v.into_owned(),
                Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
            };
            (key, value)
        })
        .collect();
    (name, attrs)
}

fn node_of(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let (qname, attrs) = element_parts(e);
    let name = split_qname(&qname).1.to_string();
    Node { qname, name, attrs, ..Node::default() }
}

/// `&amp;`, `&#x10D;` and the other predefined references; an unknown
/// entity is kept as written.
pub fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = String::from_utf8_lossy(r);
    match name.as_ref() {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => format!("&{other};"),
    }
}

/// The root element of some XML, at most `max_depth` deep and
/// `max_elements` in all.
pub fn parse_tree(text: &str, max_depth: usize, max_elements: usize) -> Result<Node, XmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Malformed(format!("it is not well-formed XML ({e})")))?;
        match event {
            Event::Start(e) => {
                elements += 1;
                if stack.len() >= max_depth || elements > max_elements {
                    return Err(XmlError::TooLarge);
                }
                stack.push(node_of(&e));
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > max_elements {
                    return Err(XmlError::TooLarge);
                }
                let node = node_of(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let node =
                    stack.pop().ok_or_else(|| XmlError::Malformed("it closes an element it never opened".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    let s = t
                        .xml10_content()
                        .map_err(|e| XmlError::Malformed(format!("its text cannot be decoded ({e})")))?;
                    n.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolve_ref(&r));
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Malformed("it holds no element".into())
                } else {
                    XmlError::Malformed("it ends before its elements are closed (truncated?)".into())
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// The invoice from the tree.
