//! A small writer of inline SVG for the visit report: rectangles, lines and text, every text
//! and attribute value escaped, numbers rounded to 0.1 px. Nothing but SVG elements comes out
//! (no script, no links, no external references), so the page's CSP can forbid everything else.

use std::fmt::Write;

/// Escapes text for an XML text node or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One `<svg>` element being written.
pub struct Svg {
    body: String,
    width: f64,
    height: f64,
    label: String,
}

/// How text sits on its x coordinate.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

impl Svg {
    /// A drawing of `width` × `height` px; `label` is its accessible name.
    pub fn new(width: f64, height: f64, label: &str) -> Self {
        Self {
            body: String::new(),
            width,
            height,
            label: label.to_owned(),
        }
    }

    /// Raw `<defs>` content known at compile time (patterns); never user text.
    pub fn defs(&mut self, defs: &'static str) {
        let _ = write!(self.body, "<defs>{defs}</defs>");
    }

    /// A rectangle; `fill` and `stroke` are colours or `url(#id)` of a pattern in `defs`.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str, title: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}" stroke="{}">"#,
            escape(fill),
            escape(stroke)
        );
        if !title.is_empty() {
            let _ = write!(self.body, "<title>{}</title>", escape(title));
        }
        self.body.push_str("</rect>");
    }

    /// A rectangle outline of `width` px.
    pub fn outline(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: &str, width: f64) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="none" stroke="{}" stroke-width="{width:.1}"/>"#,
            escape(stroke)
        );
    }

    /// A straight line; `dashed` draws it 3 px on, 2 px off.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, dashed: bool) {
        let dash = if dashed {
            r#" stroke-dasharray="3 2""#
        } else {
            ""
        };
        let _ = write!(
            self.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}"{dash}/>"#,
            from.0,
            from.1,
            to.0,
            to.1,
            escape(stroke)
        );
    }

    /// Text at (x, y) (the baseline), of `size` px, in `fill`, optionally bold.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        anchor: Anchor,
        size: f64,
        fill: &str,
        bold: bool,
        content: &str,
    ) {
        let weight = if bold { r#" font-weight="bold""# } else { "" };
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{}" font-size="{size:.1}" fill="{}"{weight}>{}</text>"#,
            anchor.as_str(),
            escape(fill),
            escape(content)
        );
    }

    /// The finished element.
    pub fn finish(self) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="{}">{}</svg>"#,
            escape(&self.label),
            self.body,
            w = self.width,
            h = self.height,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut svg = Svg::new(10.0, 10.0, "a \"label\" <b>");
        svg.text(
            1.0,
            2.0,
            Anchor::Start,
            9.0,
            "#000",
            false,
            "<script>alert(1)</script>",
        );
        svg.rect(
            0.0,
            0.0,
            1.0,
            1.0,
            "red\" onload=\"x",
            "none",
            "it's & <that>",
        );
        let out = svg.finish();
        assert!(!out.contains("<script"));
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(out.contains(r#"fill="red&quot; onload=&quot;x""#));
        assert!(out.contains("<title>it&#39;s &amp; &lt;that&gt;</title>"));
        assert!(out.contains(r#"aria-label="a &quot;label&quot; &lt;b&gt;""#));
    }
}
