//! Community and search rules, with no I/O: what a valid topic or reply is, the safe
//! formatting subset a post may use (parsed into tokens the components render as text),
//! what a search asks for (the user's query reduced to plain terms, the filters), and how
//! the database's highlight markers split a snippet. Compiled for server and browser.

use crate::reviews::domain::Status;
use serde::{Deserialize, Serialize};

/// Shortest and longest topic title, in characters.
pub const TITLE_MIN: usize = 4;
pub const TITLE_MAX: usize = 120;
/// Longest post (opening post or reply), in characters.
pub const BODY_MAX: usize = 5_000;
/// Topics per page of a category, replies per page of a topic.
pub const TOPICS_PAGE: i64 = 20;
pub const REPLIES_PAGE: i64 = 20;
/// Search results per page.
pub const SEARCH_PAGE: i64 = 10;
/// At most this many terms of a search query are used (the rest is dropped).
pub const MAX_TERMS: usize = 8;
/// Longest term kept, in characters (longer ones are cut).
pub const MAX_TERM_CHARS: usize = 40;

/// Start and end of a highlighted match in a snippet. Control characters, which stored user
/// text never contains (posts, reviews and Q&A refuse them), so a user cannot fake one.
pub const MARK_START: char = '\u{2}';
pub const MARK_END: char = '\u{3}';

/// Posts are validated like reviews: the same field errors, the same rules for user text.
pub use crate::reviews::domain::FieldError;
use crate::reviews::domain::{field_error, text};

/// A new topic: its category, title and opening post, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicDraft {
    pub category: String,
    pub title: String,
    pub body: String,
}

impl TopicDraft {
    pub fn parse(category: &str, title: &str, body: &str) -> Result<TopicDraft, FieldError> {
        let category = category.trim();
        if category.is_empty()
            || category.len() > 64
            || !category.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(field_error("category", "Choose a category."));
        }
        Ok(TopicDraft {
            category: category.to_string(),
            title: text("title", title, "a title", TITLE_MIN, TITLE_MAX)?,
            body: parse_body(body)?,
        })
    }
}

/// A post's text (opening post or reply), validated.
pub fn parse_body(body: &str) -> Result<String, FieldError> {
    text("body", body, "your post", 1, BODY_MAX)
}

/// What a post is, for the moderation queue and the status an author sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Post {
    pub id: i64,
    pub topic_id: i64,
    pub author: String,
    pub body: String,
    pub is_opening: bool,
    pub status: Status,
    pub sponsored_by: Option<String>,
    pub created_at: i64,
}

/// A topic as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TopicSummary {
    pub id: i64,
    pub category: String,
    pub title: String,
    pub author: String,
    pub status: Status,
    pub reply_count: i64,
    pub sponsored_by: Option<String>,
    pub created_at: i64,
    pub last_post_at: i64,
}

/// A topic with one page of its posts (the opening post first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Topic {
    #[serde(flatten)]
    pub summary: TopicSummary,
    pub category_name: String,
    /// Approved posts, plus the caller's own pending ones (marked by their status).
    pub posts: Vec<Post>,
    pub page: i64,
    pub pages: i64,
}

/// A pending post in the owner's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = CommunityQueueItem))]
pub struct QueueItem {
    pub post: Post,
    pub topic_title: String,
    pub author_email: String,
    pub flag_reason: Option<String>,
}

/// Number of pages for `items` at `per_page` (at least one, so page 1 always exists).
pub fn pages(items: i64, per_page: i64) -> i64 {
    (items.max(0) + per_page - 1).div_euclid(per_page).max(1)
}

/// A 1-based page number from a query string value; `last` is the last page (storage clamps
/// it); anything else is page 1.
pub fn parse_page(raw: Option<&str>) -> i64 {
    if raw.map(str::trim) == Some("last") {
        return i64::MAX;
    }
    raw.and_then(|raw| raw.trim().parse::<i64>().ok()).filter(|page| *page >= 1).unwrap_or(1)
}

// ---------------------------------------------------------------------------------------
// The formatting subset.

/// A run of a paragraph. There is no variant that carries markup: whatever the author
/// typed, `<script>` included, ends up in `Text` and is rendered as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Inline {
    Text(String),
    /// `*like this*`.
    Emphasis(String),
    /// A line break inside a paragraph (a single newline).
    Break,
    /// `[label](address)`: shown as its label and address in plain text, never a link, so a
    /// post cannot send readers anywhere with a click.
    Link {
        label: String,
        address: String,
    },
}

/// Paragraphs (separated by blank lines) of inline runs.
pub fn parse_markup(body: &str) -> Vec<Vec<Inline>> {
    let body = body.replace("\r\n", "\n");
    let mut paragraphs = Vec::new();
    for block in body.split("\n\n") {
        let lines: Vec<&str> = block.split('\n').map(str::trim_end).collect();
        if lines.iter().all(|line| line.trim().is_empty()) {
            continue;
        }
        let mut inlines = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            if index > 0 {
                inlines.push(Inline::Break);
            }
            parse_line(line, &mut inlines);
        }
        while inlines.last() == Some(&Inline::Break) {
            inlines.pop();
        }
        while inlines.first() == Some(&Inline::Break) {
            inlines.remove(0);
        }
        paragraphs.push(inlines);
    }
    paragraphs
}

fn push_text(inlines: &mut Vec<Inline>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Inline::Text(last)) = inlines.last_mut() {
        last.push_str(text);
    } else {
        inlines.push(Inline::Text(text.to_string()));
    }
}

fn parse_line(line: &str, inlines: &mut Vec<Inline>) {
    let mut rest = line;
    while !rest.is_empty() {
        let next = rest.find(['*', '[']);
        let Some(at) = next else {
            push_text(inlines, rest);
            return;
        };
        push_text(inlines, &rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix('*') {
            // Emphasis needs a closing star on the same line and something between.
            match after.find('*') {
                Some(end) if end > 0 && !after[..end].trim().is_empty() => {
                    inlines.push(Inline::Emphasis(after[..end].to_string()));
                    rest = &after[end + 1..];
                }
                _ => {
                    push_text(inlines, "*");
                    rest = after;
                }
            }
        } else if let Some((label, address, consumed)) = link_at(tail) {
            inlines.push(Inline::Link { label: label.to_string(), address: address.to_string() });
            rest = &tail[consumed..];
        } else {
            push_text(inlines, "[");
            rest = &tail[1..];
        }
    }
}

/// `[label](address)` at the start of `text`: (label, address, bytes consumed).
fn link_at(text: &str) -> Option<(&str, &str, usize)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(']')?;
    let label = &inner[..close];
    let after = inner[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let address = &after[..end];
    if label.trim().is_empty() || address.trim().is_empty() || address.contains(char::is_whitespace) {
        return None;
    }
    Some((label, address, 1 + close + 2 + end + 1))
}

// ---------------------------------------------------------------------------------------
// Search.

/// What kind of user content a search result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UgcKind {
    Review,
    Question,
    Answer,
    Post,
}

impl UgcKind {
    pub const ALL: [UgcKind; 4] = [UgcKind::Review, UgcKind::Question, UgcKind::Answer, UgcKind::Post];

    pub fn key(self) -> &'static str {
        match self {
            UgcKind::Review => "review",
            UgcKind::Question => "question",
            UgcKind::Answer => "answer",
            UgcKind::Post => "post",
        }
    }

    pub fn parse(key: &str) -> Option<UgcKind> {
        UgcKind::ALL.into_iter().find(|kind| kind.key() == key.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            UgcKind::Review => "Review",
            UgcKind::Question => "Question",
            UgcKind::Answer => "Answer",
            UgcKind::Post => "Community post",
        }
    }
}

/// The words of a user's query: runs of letters and digits, lower-cased, at most
/// [`MAX_TERMS`] of at most [`MAX_TERM_CHARS`] characters. Everything else (quotes, stars,
/// parentheses, `NEAR`, column filters) is a separator, so no input can be query syntax.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        // Lower-casing may add combining marks (İ → i̇); only letters and digits stay.
        let term: String =
            word.chars().take(MAX_TERM_CHARS).flat_map(char::to_lowercase).filter(|c| c.is_alphanumeric()).collect();
        if term.is_empty() {
            continue;
        }
        if !terms.contains(&term) {
            terms.push(term);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

/// The terms as an FTS5 query: each one a quoted string (so `AND`, `OR`, `NOT` and `NEAR`
/// are words like any other), all of them required.
pub fn fts5_query(terms: &[String]) -> String {
    terms.iter().map(|term| format!("\"{}\"", term.replace('"', ""))).collect::<Vec<_>>().join(" ")
}

/// The terms as `websearch_to_tsquery` input: plain words, all of them required. A word
/// PostgreSQL treats as an operator (`or`) is quoted so it stays a word.
pub fn websearch_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|term| if term == "or" { "\"or\"".to_string() } else { term.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A search: the query's terms and the filters, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub terms: Vec<String>,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub min_rating: Option<i64>,
    pub verified_only: bool,
    /// Epoch ms, inclusive.
    pub from: Option<i64>,
    /// Epoch ms, exclusive (the day after the `to` date).
    pub to: Option<i64>,
    pub kind: Option<UgcKind>,
    /// How many results come before this page.
    pub offset: i64,
}

/// The raw parameters of a search, as a form or the API sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SearchParams {
    pub q: Option<String>,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub min_rating: Option<String>,
    pub verified: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: Option<String>,
    pub cursor: Option<String>,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

impl SearchQuery {
    /// Parses the parameters; an empty value is no filter. Bad filter values are refused
    /// (with the field), while the query text never is: it is reduced to its terms.
    pub fn parse(params: &SearchParams) -> Result<SearchQuery, FieldError> {
        let terms = query_terms(params.q.as_deref().unwrap_or(""));
        let sku = present(&params.sku)
            .map(|sku| {
                if sku.len() <= 32 && sku.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    Ok(sku.to_ascii_uppercase())
                } else {
                    Err(field_error("sku", "Give a product code like COF-001."))
                }
            })
            .transpose()?;
        let category = present(&params.category)
            .map(|slug| {
                if slug.len() <= 64 && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                    Ok(slug.to_string())
                } else {
                    Err(field_error("category", "Unknown category."))
                }
            })
            .transpose()?;
        let min_rating = present(&params.min_rating)
            .map(|raw| {
                raw.parse::<i64>()
                    .ok()
                    .filter(|stars| (1..=5).contains(stars))
                    .ok_or_else(|| field_error("min_rating", "Choose 1 to 5 stars."))
            })
            .transpose()?;
        let verified_only = match present(&params.verified) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("on") => true,
            Some(_) => return Err(field_error("verified", "Use true or false.")),
        };
        let date = |field: &'static str, raw: Option<&str>| {
            raw.map(|raw| {
                crate::shared::parse_date(raw).ok_or_else(|| field_error(field, "Give a date as YYYY-MM-DD."))
            })
            .transpose()
        };
        let from = date("from", present(&params.from))?;
        let to = date("to", present(&params.to))?.map(|day| day + crate::shared::DAY_MS);
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                return Err(field_error("to", "The end date must not be before the start date."));
            }
        }
        let kind = present(&params.kind)
            .map(|raw| UgcKind::parse(raw).ok_or_else(|| field_error("kind", "Use review, question, answer or post.")))
            .transpose()?;
        let offset = present(&params.cursor)
            .map(|raw| {
                raw.parse::<i64>()
                    .ok()
                    .filter(|offset| (0..=10_000).contains(offset))
                    .ok_or_else(|| field_error("cursor", "Use the next_cursor of the last page."))
            })
            .transpose()?
            .unwrap_or(0);
        Ok(SearchQuery { terms, sku, category, min_rating, verified_only, from, to, kind, offset })
    }
}

/// One search result. `title` and `snippet` carry [`MARK_START`]/[`MARK_END`] around the
/// matched words (see [`highlights`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub kind: UgcKind,
    pub id: i64,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub rating: Option<i64>,
    pub verified_buyer: bool,
    pub topic_id: Option<i64>,
    /// The item's disclosures, shown with the result as on its page.
    pub sponsored_by: Option<String>,
    pub incentive_points: i64,
    /// The product's name or the topic's title.
    pub label: String,
    pub title: String,
    pub snippet: String,
    pub created_at: i64,
}

impl SearchHit {
    /// Where the item is shown.
    pub fn href(&self) -> String {
        match (self.kind, self.topic_id, self.sku.as_deref()) {
            (UgcKind::Post, Some(topic), _) => format!("/community/t/{topic}"),
            (_, _, Some(sku)) => format!("/products/{sku}"),
            _ => "/community".to_string(),
        }
    }
}

/// A page of results and the cursor of the next one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

/// Splits highlighted text into (is a match, text) runs. Unbalanced markers end or start a
/// run like balanced ones; the markers themselves never reach the output.
pub fn highlights(text: &str) -> Vec<(bool, String)> {
    let mut runs: Vec<(bool, String)> = Vec::new();
    let mut marked = false;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            MARK_START | MARK_END => {
                if !current.is_empty() {
                    runs.push((marked, std::mem::take(&mut current)));
                }
                marked = c == MARK_START;
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        runs.push((marked, current));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.to_string())
    }

    #[test]
    fn blank_lines_make_paragraphs_and_single_newlines_breaks() {
        assert_eq!(
            parse_markup("one\ntwo\n\n\nthree"),
            vec![vec![text("one"), Inline::Break, text("two")], vec![text("three")]]
        );
    }

    #[test]
    fn stars_make_emphasis_and_a_lone_star_stays_a_star() {
        assert_eq!(
            parse_markup("a *very* good 5 * 3 tea"),
            vec![vec![text("a "), Inline::Emphasis("very".into()), text(" good 5 * 3 tea")]]
        );
        assert_eq!(parse_markup("**"), vec![vec![text("**")]]);
    }

    #[test]
    fn a_link_is_parsed_into_label_and_address_and_a_broken_one_is_text() {
        assert_eq!(
            parse_markup("see [the guide](https://example.com/guide) now"),
            vec![vec![
                text("see "),
                Inline::Link { label: "the guide".into(), address: "https://example.com/guide".into() },
                text(" now"),
            ]]
        );
        assert_eq!(parse_markup("[no address]"), vec![vec![text("[no address]")]]);
        assert_eq!(parse_markup("[x](java script:1)"), vec![vec![text("[x](java script:1)")]]);
    }

    #[test]
    fn html_is_only_ever_text() {
        let body = "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> *<b>bold</b>*";
        let parsed = parse_markup(body);
        assert_eq!(
            parsed,
            vec![
                vec![text("<script>alert(1)</script>")],
                vec![text("<img src=x onerror=alert(1)> "), Inline::Emphasis("<b>bold</b>".into())],
            ]
        );
    }

    proptest! {
        /// Every character the author typed is shown (as text), except the formatting marks
        /// that were consumed: nothing is dropped silently and nothing is added.
        #[test]
        fn parsing_keeps_every_character_of_the_text(body in "[a-z<>&\"' *\\[\\]()\n]{0,80}") {
            let shown: String = parse_markup(&body)
                .iter()
                .flatten()
                .map(|inline| match inline {
                    Inline::Text(t) | Inline::Emphasis(t) => t.clone(),
                    Inline::Link { label, address } => format!("{label}{address}"),
                    Inline::Break => String::new(),
                })
                .collect();
            let strip = |s: &str| s.chars().filter(|c| !matches!(c, '*' | '[' | ']' | '(' | ')' | '\n' | ' ')).collect::<String>();
            prop_assert_eq!(strip(&shown), strip(&body));
        }

        #[test]
        fn any_query_reduces_to_plain_words(query in "\\PC{0,60}") {
            let terms = query_terms(&query);
            prop_assert!(terms.len() <= MAX_TERMS);
            for term in &terms {
                prop_assert!(!term.is_empty());
                prop_assert!(term.chars().all(char::is_alphanumeric));
            }
            let fts = fts5_query(&terms);
            prop_assert_eq!(fts.matches('"').count(), terms.len() * 2);
        }
    }

    #[test]
    fn hostile_queries_become_quoted_words_or_nothing() {
        assert_eq!(fts5_query(&query_terms("\"")), "");
        assert_eq!(fts5_query(&query_terms("AND OR")), "\"and\" \"or\"");
        assert_eq!(fts5_query(&query_terms("*")), "");
        assert_eq!(
            fts5_query(&query_terms("title:tea NEAR(cup mug) -x")),
            "\"title\" \"tea\" \"near\" \"cup\" \"mug\" \"x\""
        );
        assert_eq!(websearch_query(&query_terms("tea OR coffee")), "tea \"or\" coffee");
        assert_eq!(query_terms("Tea tea TEA"), vec!["tea".to_string()]);
    }

    #[test]
    fn titles_and_bodies_are_validated_with_the_field_named() {
        assert_eq!(TopicDraft::parse("tea", "Hi", "body").unwrap_err().field, "title");
        assert_eq!(TopicDraft::parse("tea", "Brewing green tea", "  ").unwrap_err().field, "body");
        assert_eq!(TopicDraft::parse("Tea!", "Brewing green tea", "b").unwrap_err().field, "category");
        let long = "x".repeat(BODY_MAX + 1);
        assert!(parse_body(&long).unwrap_err().message.contains("5000"));
        assert_eq!(parse_body("bell \u{7}").unwrap_err().message, "Remove the control characters.");
        assert_eq!(parse_body(&format!("fake {MARK_START}mark")).unwrap_err().field, "body");
        let draft = TopicDraft::parse(" tea ", " Brewing green tea ", "line\r\nnext").unwrap();
        assert_eq!(
            (draft.category.as_str(), draft.title.as_str(), draft.body.as_str()),
            ("tea", "Brewing green tea", "line\nnext")
        );
    }

    #[test]
    fn highlight_markers_split_runs_and_never_show() {
        let marked = format!("a {MARK_START}tea{MARK_END} and {MARK_START}cup{MARK_END}");
        assert_eq!(
            highlights(&marked),
            vec![
                (false, "a ".to_string()),
                (true, "tea".to_string()),
                (false, " and ".to_string()),
                (true, "cup".to_string())
            ]
        );
        assert_eq!(highlights("plain"), vec![(false, "plain".to_string())]);
    }

    #[test]
    fn search_filters_are_parsed_and_bad_ones_name_their_field() {
        let params = SearchParams {
            q: Some("Green \"tea\"".into()),
            sku: Some("tea-001".into()),
            min_rating: Some("4".into()),
            verified: Some("true".into()),
            from: Some("2026-01-01".into()),
            to: Some("2026-01-31".into()),
            kind: Some("review".into()),
            cursor: Some("10".into()),
            ..SearchParams::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        assert_eq!(query.terms, vec!["green", "tea"]);
        assert_eq!(query.sku.as_deref(), Some("TEA-001"));
        assert_eq!(
            (query.min_rating, query.verified_only, query.kind, query.offset),
            (Some(4), true, Some(UgcKind::Review), 10)
        );
        assert_eq!(query.to.unwrap() - query.from.unwrap(), 31 * crate::shared::DAY_MS);
        for (field, params) in [
            ("min_rating", SearchParams { min_rating: Some("6".into()), ..SearchParams::default() }),
            ("from", SearchParams { from: Some("yesterday".into()), ..SearchParams::default() }),
            ("kind", SearchParams { kind: Some("blog".into()), ..SearchParams::default() }),
            ("cursor", SearchParams { cursor: Some("-1".into()), ..SearchParams::default() }),
            ("sku", SearchParams { sku: Some("x'; DROP".into()), ..SearchParams::default() }),
            (
                "to",
                SearchParams {
                    from: Some("2026-02-01".into()),
                    to: Some("2026-01-01".into()),
                    ..SearchParams::default()
                },
            ),
        ] {
            assert_eq!(SearchQuery::parse(&params).unwrap_err().field, field);
        }
    }

    #[test]
    fn page_counts_round_up_and_start_at_one() {
        assert_eq!((pages(0, 20), pages(20, 20), pages(21, 20)), (1, 1, 2));
        assert_eq!(
            (parse_page(Some("3")), parse_page(Some("0")), parse_page(Some("x")), parse_page(None)),
            (3, 1, 1, 1)
        );
        assert_eq!(parse_page(Some("last")), i64::MAX);
    }
}
