//! Anonymized insights for brands: per product or category, the rating distribution, reviews
//! per month, top review terms and questions asked, from published items only. Pure: the
//! storage hands in facts (contributor ids stay on the server), [`build`] aggregates them.
//!
//! Invariants (k-anonymity, k = [`K`]):
//! - A section (reviews, questions) of a group with fewer than `K` distinct contributors is
//!   omitted and marked `suppressed`.
//! - Inside a published section, a month with fewer than `K` contributors is left out
//!   (and counted in `months_suppressed`), and a term counts only when at least `K`
//!   different contributors used it, so no row of the output rests on fewer than `K` people.
//! - The output holds no contributor id, name or text: only counts, months and single words.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The smallest number of distinct contributors any published figure rests on.
pub const K: usize = 5;
/// Terms listed per section.
pub const TOP_TERMS: usize = 10;

/// One published review, as the storage reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewFact {
    pub contributor: i64,
    pub rating: i64,
    pub created_at: i64,
    pub text: String,
}

/// One published question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionFact {
    pub contributor: i64,
    pub sku: String,
    pub text: String,
}

/// What the insights are about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "key")]
pub enum Scope {
    Product(String),
    Category(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TermCount {
    pub term: String,
    /// Distinct contributors who used it (at least [`K`]).
    pub contributors: usize,
    pub uses: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MonthCount {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub reviews: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewInsights {
    pub suppressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<usize>,
    /// Reviews with 1, 2, 3, 4 and 5 stars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating_distribution: Option<[usize; 5]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_by_month: Option<Vec<MonthCount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub months_suppressed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_terms: Option<Vec<TermCount>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductCount {
    pub sku: String,
    pub questions: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuestionInsights {
    pub suppressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions: Option<usize>,
    /// Questions per product, for the products at least [`K`] people asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_product: Option<Vec<ProductCount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products_suppressed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_terms: Option<Vec<TermCount>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Insights {
    pub scope: Scope,
    /// Products the figures cover (SKUs).
    pub products: Vec<String>,
    pub k: usize,
    pub reviews: ReviewInsights,
    pub questions: QuestionInsights,
}

/// Words that say nothing about a product.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "your", "with", "this", "that", "was", "were", "have", "has",
    "had", "its", "it's", "from", "they", "them", "their", "there", "then", "than", "what", "when", "which", "who",
    "will", "would", "can", "could", "does", "did", "just", "very", "really", "too", "also", "all", "any", "one",
    "our", "out", "get", "got", "how", "much", "more", "some", "such", "only", "into", "over", "after", "before",
    "about", "after", "been", "being", "because", "these", "those", "here", "where", "why", "each", "other", "she",
    "her", "him", "his", "a", "i", "is", "it", "of", "to", "in", "on", "my", "me", "we", "be", "so", "as", "at", "or",
    "an", "if", "do", "no", "by", "up", "am", "us", "im", "ive", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant",
    "wont", "thats",
];

/// The words of `text` worth counting: lowercase, three letters or more, not a stopword,
/// not a number.
pub fn terms(text: &str) -> BTreeSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|word| word.trim_matches('\'').replace('\'', ""))
        .filter(|word| word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit()))
        .filter(|word| !STOPWORDS.contains(&word.as_str()))
        .collect()
}

/// `YYYY-MM` of a UTC timestamp in milliseconds.
pub fn month_of(epoch_ms: i64) -> String {
    let (year, month, _) = crate::shared::civil_from_days(epoch_ms.div_euclid(crate::shared::DAY_MS));
    format!("{year:04}-{month:02}")
}

fn top_terms<'a>(items: impl Iterator<Item = (i64, &'a str)>) -> Vec<TermCount> {
    let mut by_term: BTreeMap<String, (BTreeSet<i64>, usize)> = BTreeMap::new();
    for (contributor, text) in items {
        for term in terms(text) {
            let entry = by_term.entry(term).or_default();
            entry.0.insert(contributor);
            entry.1 += 1;
        }
    }
    let mut counts: Vec<TermCount> = by_term
        .into_iter()
        .filter(|(_, (contributors, _))| contributors.len() >= K)
        .map(|(term, (contributors, uses))| TermCount { term, contributors: contributors.len(), uses })
        .collect();
    counts.sort_by(|a, b| b.contributors.cmp(&a.contributors).then(b.uses.cmp(&a.uses)).then(a.term.cmp(&b.term)));
    counts.truncate(TOP_TERMS);
    counts
}

fn distinct(contributors: impl Iterator<Item = i64>) -> usize {
    contributors.collect::<BTreeSet<_>>().len()
}

/// Aggregates the facts of one group, suppressing what rests on fewer than [`K`] people.
pub fn build(scope: Scope, products: Vec<String>, reviews: &[ReviewFact], questions: &[QuestionFact]) -> Insights {
    let review_insights = if distinct(reviews.iter().map(|r| r.contributor)) < K {
        ReviewInsights {
            suppressed: true,
            reviews: None,
            rating_distribution: None,
            volume_by_month: None,
            months_suppressed: None,
            top_terms: None,
        }
    } else {
        let mut distribution = [0usize; 5];
        let mut months: BTreeMap<String, (BTreeSet<i64>, usize)> = BTreeMap::new();
        for review in reviews {
            if let Some(slot) = usize::try_from(review.rating - 1).ok().and_then(|i| distribution.get_mut(i)) {
                *slot += 1;
            }
            let entry = months.entry(month_of(review.created_at)).or_default();
            entry.0.insert(review.contributor);
            entry.1 += 1;
        }
        let n_months = months.len();
        let volume: Vec<MonthCount> = months
            .into_iter()
            .filter(|(_, (contributors, _))| contributors.len() >= K)
            .map(|(month, (_, n))| MonthCount { month, reviews: n })
            .collect();
        ReviewInsights {
            suppressed: false,
            reviews: Some(reviews.len()),
            rating_distribution: Some(distribution),
            months_suppressed: Some(n_months - volume.len()),
            volume_by_month: Some(volume),
            top_terms: Some(top_terms(reviews.iter().map(|r| (r.contributor, r.text.as_str())))),
        }
    };
    let question_insights = if distinct(questions.iter().map(|q| q.contributor)) < K {
        QuestionInsights {
            suppressed: true,
            questions: None,
            per_product: None,
            products_suppressed: None,
            top_terms: None,
        }
    } else {
        let mut by_product: BTreeMap<&str, (BTreeSet<i64>, usize)> = BTreeMap::new();
        for question in questions {
            let entry = by_product.entry(question.sku.as_str()).or_default();
            entry.0.insert(question.contributor);
            entry.1 += 1;
        }
        let n_products = by_product.len();
        let per_product: Vec<ProductCount> = by_product
            .into_iter()
            .filter(|(_, (askers, _))| askers.len() >= K)
            .map(|(sku, (_, n))| ProductCount { sku: sku.to_string(), questions: n })
            .collect();
        QuestionInsights {
            suppressed: false,
            questions: Some(questions.len()),
            products_suppressed: Some(n_products - per_product.len()),
            per_product: Some(per_product),
            top_terms: Some(top_terms(questions.iter().map(|q| (q.contributor, q.text.as_str())))),
        }
    };
    Insights { scope, products, k: K, reviews: review_insights, questions: question_insights }
}

/// The insights as CSV rows `section,metric,key,value` (header first).
pub fn csv_rows(insights: &Insights) -> Vec<[String; 4]> {
    let mut rows = vec![["section".into(), "metric".into(), "key".into(), "value".into()]];
    let mut push = |section: &str, metric: &str, key: &str, value: String| {
        rows.push([section.to_string(), metric.to_string(), key.to_string(), value]);
    };
    let (scope, key) = match &insights.scope {
        Scope::Product(sku) => ("product", sku.as_str()),
        Scope::Category(slug) => ("category", slug.as_str()),
    };
    push("scope", scope, key, insights.products.len().to_string());
    push("scope", "k", "", insights.k.to_string());
    let reviews = &insights.reviews;
    push("reviews", "suppressed", "", reviews.suppressed.to_string());
    if let Some(n) = reviews.reviews {
        push("reviews", "count", "", n.to_string());
    }
    for (i, n) in reviews.rating_distribution.iter().flatten().enumerate() {
        push("reviews", "rating", &(i + 1).to_string(), n.to_string());
    }
    for month in reviews.volume_by_month.iter().flatten() {
        push("reviews", "month", &month.month, month.reviews.to_string());
    }
    if let Some(n) = reviews.months_suppressed {
        push("reviews", "months_suppressed", "", n.to_string());
    }
    for term in reviews.top_terms.iter().flatten() {
        push("reviews", "term", &term.term, term.contributors.to_string());
    }
    let questions = &insights.questions;
    push("questions", "suppressed", "", questions.suppressed.to_string());
    if let Some(n) = questions.questions {
        push("questions", "count", "", n.to_string());
    }
    for product in questions.per_product.iter().flatten() {
        push("questions", "product", &product.sku, product.questions.to_string());
    }
    if let Some(n) = questions.products_suppressed {
        push("questions", "products_suppressed", "", n.to_string());
    }
    for term in questions.top_terms.iter().flatten() {
        push("questions", "term", &term.term, term.contributors.to_string());
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_2026: i64 = 1_793_491_200_000;
    const DEC_2026: i64 = 1_796_083_200_000;

    fn review(contributor: i64, rating: i64, at: i64, text: &str) -> ReviewFact {
        ReviewFact { contributor, rating, created_at: at, text: text.into() }
    }

    #[test]
    fn fewer_than_five_contributors_suppress_the_section_however_many_items() {
        // Four people, eight reviews: still four people.
        let reviews: Vec<ReviewFact> = (0..8).map(|i| review(i % 4, 5, DEC_2026, "smooth chocolate notes")).collect();
        let questions: Vec<QuestionFact> = (0..4)
            .map(|i| QuestionFact { contributor: i, sku: "COF-001".into(), text: "is it decaf".into() })
            .collect();
        let insights = build(Scope::Product("COF-001".into()), vec!["COF-001".into()], &reviews, &questions);
        assert!(insights.reviews.suppressed && insights.questions.suppressed);
        let json = serde_json::to_value(&insights).unwrap();
        assert_eq!(json["reviews"], serde_json::json!({ "suppressed": true }));
        assert_eq!(json["questions"], serde_json::json!({ "suppressed": true }));
        assert!(!json.to_string().contains("smooth"));
    }

    #[test]
    fn five_contributors_publish_the_distribution_months_and_terms_used_by_five() {
        let mut reviews: Vec<ReviewFact> =
            (0..5).map(|i| review(i, 1 + i % 5, DEC_2026, "Smooth, chocolate notes; the smooth finish")).collect();
        // One November review by one person: its month is left out, the totals keep it.
        reviews.push(review(9, 5, NOV_2026, "Smooth and rare wording zanzibar"));
        let insights = build(Scope::Category("coffee".into()), vec![], &reviews, &[]);
        let r = &insights.reviews;
        assert!(!r.suppressed);
        assert_eq!(r.reviews, Some(6));
        assert_eq!(r.rating_distribution, Some([1, 1, 1, 1, 2]));
        assert_eq!(r.volume_by_month, Some(vec![MonthCount { month: "2026-12".into(), reviews: 5 }]));
        assert_eq!(r.months_suppressed, Some(1));
        let terms = r.top_terms.as_ref().unwrap();
        assert_eq!(terms[0], TermCount { term: "smooth".into(), contributors: 6, uses: 6 });
        assert!(terms.iter().all(|t| t.contributors >= K));
        assert!(!terms.iter().any(|t| t.term == "zanzibar" || t.term == "the"));
        assert!(insights.questions.suppressed);
    }

    #[test]
    fn questions_are_counted_per_product_only_where_five_people_asked() {
        let ask = |contributor, sku: &str| QuestionFact { contributor, sku: sku.into(), text: "does it fit".into() };
        // Five people asked about MUG-001; two (of the same five) about MUG-002.
        let mut questions: Vec<QuestionFact> = (0..5).map(|i| ask(i, "MUG-001")).collect();
        questions.extend([ask(0, "MUG-002"), ask(1, "MUG-002")]);
        let insights = build(Scope::Category("mugs".into()), vec![], &[], &questions);
        let q = &insights.questions;
        assert_eq!(q.questions, Some(7));
        assert_eq!(q.per_product, Some(vec![ProductCount { sku: "MUG-001".into(), questions: 5 }]));
        assert_eq!(q.products_suppressed, Some(1));
        assert_eq!(q.top_terms.as_ref().unwrap()[0].term, "fit");
    }

    #[test]
    fn terms_drop_stopwords_numbers_and_short_words() {
        let found = terms("The 250 g bag: it's GREAT, isn't it? Great value.");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["bag", "great", "value"]);
        assert_eq!(month_of(DEC_2026), "2026-12");
        assert_eq!(month_of(DEC_2026 - 1), "2026-11");
    }

    #[test]
    fn the_csv_has_one_row_per_figure_and_no_text() {
        let reviews: Vec<ReviewFact> = (0..5).map(|i| review(i, 4, DEC_2026, "lovely mug")).collect();
        let rows = csv_rows(&build(Scope::Product("MUG-001".into()), vec!["MUG-001".into()], &reviews, &[]));
        assert_eq!(rows[0], ["section", "metric", "key", "value"].map(String::from));
        assert!(rows.contains(&["reviews", "rating", "4", "5"].map(String::from)));
        assert!(rows.contains(&["reviews", "term", "lovely", "5"].map(String::from)));
        assert!(rows.contains(&["questions", "suppressed", "", "true"].map(String::from)));
    }
}
