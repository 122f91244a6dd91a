//! Reviews and Q&A rules, with no I/O: what a valid review, question or answer is, when one
//! may skip the human moderator, how ratings summarize, which disclosures a review carries,
//! and the schema.org JSON-LD built from approved reviews. Compiled for server and browser.

use serde::{Deserialize, Serialize};

/// Longest review title, in characters.
pub const TITLE_MAX: usize = 120;
/// Longest review body, in characters.
pub const BODY_MAX: usize = 5_000;
/// Longest question or answer, in characters.
pub const QA_MAX: usize = 2_000;
/// Reviews per page on the product page and in the API.
pub const PAGE_SIZE: i64 = 10;
/// Longest moderation reason, merchant reply and sponsor name.
pub const REASON_MAX: usize = 300;
pub const REPLY_MAX: usize = 2_000;
pub const SPONSOR_MAX: usize = 80;

/// A star rating, 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "i64", into = "i64")]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: i64) -> Option<Rating> {
        (1..=5).contains(&stars).then_some(Rating(stars as u8))
    }

    pub fn stars(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for Rating {
    type Error = String;
    fn try_from(stars: i64) -> Result<Rating, String> {
        Rating::new(stars).ok_or_else(|| "a rating is 1 to 5 stars".to_string())
    }
}

impl From<Rating> for i64 {
    fn from(rating: Rating) -> i64 {
        rating.stars()
    }
}

/// A field that failed validation, with the message shown next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

pub(crate) fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

/// User text (reviews, Q&A, community posts), trimmed, with control characters other than
/// newlines and tabs refused, between `min` and `max` characters.
pub(crate) fn text(field: &'static str, raw: &str, what: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(field_error(field, format!("Write {what}.")));
    }
    let length = trimmed.chars().count();
    if length < min {
        return Err(field_error(field, format!("Write at least {min} characters for {what}.")));
    }
    if length > max {
        return Err(field_error(field, format!("Keep {what} to {max} characters (this has {length}).")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(field_error(field, "Remove the control characters."));
    }
    Ok(trimmed.replace("\r\n", "\n"))
}

/// A review as its author submits it, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewDraft {
    pub rating: Rating,
    pub title: String,
    pub body: String,
}

impl ReviewDraft {
    pub fn parse(rating: i64, title: &str, body: &str) -> Result<ReviewDraft, FieldError> {
        let rating = Rating::new(rating).ok_or_else(|| field_error("rating", "Choose 1 to 5 stars."))?;
        let title = text("title", title, "a title", 1, TITLE_MAX)?;
        let body = text("body", body, "your review", 1, BODY_MAX)?;
        Ok(ReviewDraft { rating, title, body })
    }

    /// From a form, where the rating arrives as text.
    pub fn parse_form(rating: &str, title: &str, body: &str) -> Result<ReviewDraft, FieldError> {
        let stars = rating.trim().parse::<i64>().map_err(|_| field_error("rating", "Choose 1 to 5 stars."))?;
        ReviewDraft::parse(stars, title, body)
    }
}

/// A question or an answer, validated.
pub fn parse_question(body: &str) -> Result<String, FieldError> {
    text("body", body, "your question", 1, QA_MAX)
}

pub fn parse_answer(body: &str) -> Result<String, FieldError> {
    text("body", body, "your answer", 1, QA_MAX)
}

/// A moderator's reason for rejecting (required, so the author can be told why).
pub fn parse_reason(reason: &str) -> Result<String, FieldError> {
    text("reason", reason, "a reason", 1, REASON_MAX)
}

pub fn parse_reply(reply: &str) -> Result<String, FieldError> {
    text("reply", reply, "a reply", 1, REPLY_MAX)
}

pub fn parse_sponsor(name: &str) -> Result<String, FieldError> {
    text("sponsored_by", name, "the sponsor's name", 1, SPONSOR_MAX)
}

/// Words that always send an item to a human, one per line or comma-separated,
/// matched as whole words, ignoring case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocklist(Vec<String>);

impl Blocklist {
    pub fn parse(raw: &str) -> Result<Blocklist, FieldError> {
        let mut words: Vec<String> =
            raw.split([',', '\n']).map(|word| word.trim().to_lowercase()).filter(|word| !word.is_empty()).collect();
        if let Some(word) = words.iter().find(|word| word.chars().count() > 40) {
            return Err(field_error("blocklist", format!("\"{word}\" is longer than 40 characters.")));
        }
        if words.len() > 500 {
            return Err(field_error("blocklist", "Keep the list to 500 words."));
        }
        words.sort();
        words.dedup();
        Ok(Blocklist(words))
    }

    /// The first listed word that occurs in `text` as a whole word (or phrase).
    pub fn first_match(&self, text: &str) -> Option<&str> {
        let lower = text.to_lowercase();
        self.0.iter().map(String::as_str).find(|word| contains_word(&lower, word))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// As the owner edits it: one word per line.
    pub fn to_text(&self) -> String {
        self.0.join("\n")
    }
}

fn contains_word(haystack: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    haystack.match_indices(word).any(|(start, _)| {
        let before = haystack[..start].chars().next_back();
        let after = haystack[start + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// Moderation state of a review, question or answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = ModerationStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(key: &str) -> Option<Status> {
        match key {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

/// Where a new or edited item goes: straight to the page, or to the moderator with the
/// reason they will see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screening {
    Approve,
    Human(String),
}

/// Reviews: verified buyers may skip the queue when the owner turned that on, unless a
/// blocklisted word appears; everyone else waits for a human.
pub fn screen_review(
    verified_buyer: bool,
    auto_approve_verified: bool,
    blocklist: &Blocklist,
    text: &str,
) -> Screening {
    if let Some(word) = blocklist.first_match(text) {
        return Screening::Human(format!("contains the blocked word \"{word}\""));
    }
    match (verified_buyer, auto_approve_verified) {
        (true, true) => Screening::Approve,
        (true, false) => Screening::Human("auto-approval is off".to_string()),
        (false, _) => Screening::Human("not a verified buyer".to_string()),
    }
}

/// Questions and answers: staff answers are published at once (unless blocklisted, which
/// catches a compromised staff account's spam too); everything else waits for a human.
pub fn screen_qa(is_staff: bool, blocklist: &Blocklist, text: &str) -> Screening {
    if let Some(word) = blocklist.first_match(text) {
        return Screening::Human(format!("contains the blocked word \"{word}\""));
    }
    if is_staff {
        Screening::Approve
    } else {
        Screening::Human("new from a shopper".to_string())
    }
}

/// How a product's reviews are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    #[default]
    Newest,
    Helpful,
    RatingHigh,
    RatingLow,
}

impl ReviewSort {
    pub const ALL: [ReviewSort; 4] =
        [ReviewSort::Newest, ReviewSort::Helpful, ReviewSort::RatingHigh, ReviewSort::RatingLow];

    pub fn key(self) -> &'static str {
        match self {
            ReviewSort::Newest => "newest",
            ReviewSort::Helpful => "helpful",
            ReviewSort::RatingHigh => "rating_high",
            ReviewSort::RatingLow => "rating_low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewSort::Newest => "Newest",
            ReviewSort::Helpful => "Most helpful",
            ReviewSort::RatingHigh => "Highest rating",
            ReviewSort::RatingLow => "Lowest rating",
        }
    }

    pub fn parse(key: &str) -> Option<ReviewSort> {
        ReviewSort::ALL.into_iter().find(|sort| sort.key() == key)
    }

    /// The SQL ORDER BY (a fixed string per variant, never user text).
    pub fn order_by(self) -> &'static str {
        match self {
            ReviewSort::Newest => "r.created_at DESC, r.id DESC",
            ReviewSort::Helpful => "r.helpful_count DESC, r.created_at DESC, r.id DESC",
            ReviewSort::RatingHigh => "r.rating DESC, r.created_at DESC, r.id DESC",
            ReviewSort::RatingLow => "r.rating ASC, r.created_at DESC, r.id DESC",
        }
    }
}

/// Approved ratings of one product: how many per star (index 0 = 1 star).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RatingSummary {
    pub histogram: [i64; 5],
}

impl RatingSummary {
    pub fn count(&self) -> i64 {
        self.histogram.iter().sum()
    }

    pub fn total(&self) -> i64 {
        self.histogram.iter().zip(1..).map(|(n, stars)| n * stars).sum()
    }

    /// The average in tenths of a star, rounded half up (43 = 4.3); None without reviews.
    pub fn average_tenths(&self) -> Option<i64> {
        let count = self.count();
        (count > 0).then(|| (self.total() * 10 * 2 + count) / (count * 2))
    }

    /// "4.3" (integer arithmetic, so the server and the browser print the same).
    pub fn average_text(&self) -> Option<String> {
        self.average_tenths().map(|tenths| format!("{}.{}", tenths / 10, tenths % 10))
    }

    /// Percent of reviews with `stars` stars, rounded down, for the distribution bars.
    pub fn percent(&self, stars: i64) -> i64 {
        let count = self.count();
        if count == 0 || !(1..=5).contains(&stars) {
            return 0;
        }
        self.histogram[(stars - 1) as usize] * 100 / count
    }
}

/// A review as shoppers (and the API) see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Review {
    pub id: i64,
    pub sku: String,
    pub rating: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub verified_buyer: bool,
    pub sponsored_by: Option<String>,
    /// Points the author received for it (0: none). Non-zero means incentivized.
    pub incentive_points: i64,
    pub helpful_count: i64,
    pub merchant_reply: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Only shown to the author and moderators.
    pub status: Status,
    pub reject_reason: Option<String>,
}

/// A disclosure a piece of content must carry (FTC 16 CFR 465).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disclosure {
    Sponsored(String),
    Incentivized(i64),
}

impl Disclosure {
    pub fn text(&self) -> String {
        match self {
            Disclosure::Sponsored(by) => format!("Sponsored by {by}"),
            Disclosure::Incentivized(points) => {
                format!("Incentivized review: the author received {points} points")
            }
        }
    }
}

/// Every disclosure of a review or answer: a sponsor, and any value the author received.
pub fn disclosures(sponsored_by: Option<&str>, incentive_points: i64) -> Vec<Disclosure> {
    let mut labels = Vec::new();
    if let Some(by) = sponsored_by.filter(|by| !by.trim().is_empty()) {
        labels.push(Disclosure::Sponsored(by.to_string()));
    }
    if incentive_points > 0 {
        labels.push(Disclosure::Incentivized(incentive_points));
    }
    labels
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Answer {
    pub id: i64,
    pub question_id: i64,
    pub body: String,
    pub author: String,
    pub is_staff: bool,
    pub verified_buyer: bool,
    pub sponsored_by: Option<String>,
    pub votes: i64,
    pub created_at: i64,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Question {
    pub id: i64,
    pub sku: String,
    pub body: String,
    pub author: String,
    pub votes: i64,
    pub created_at: i64,
    pub featured_answer_id: Option<i64>,
    /// Approved answers: the featured one first, then by votes.
    pub answers: Vec<Answer>,
    pub status: Status,
}

/// Orders answers: featured first, then most votes, then oldest.
pub fn order_answers(answers: &mut [Answer], featured: Option<i64>) {
    answers.sort_by_key(|a| (Some(a.id) != featured, -a.votes, a.created_at, a.id));
}

/// What a product page embeds for search engines: schema.org `Product` with its
/// `AggregateRating` and `Review`s, from approved reviews only (the caller passes only
/// those). Returned as the text of a `<script type="application/ld+json">`, with `<`, `>`
/// and `&` escaped so no review text can close the script element.
pub fn json_ld(
    name: &str,
    sku: &str,
    description: &str,
    image: &str,
    price_cents: i64,
    summary: &RatingSummary,
    reviews: &[Review],
) -> String {
    let mut product = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": name,
        "sku": sku,
        "description": description,
        "image": image,
        "offers": {
            "@type": "Offer",
            "priceCurrency": "EUR",
            "price": format!("{}.{:02}", price_cents / 100, price_cents % 100),
        },
    });
    if let (Some(average), serde_json::Value::Object(map)) = (summary.average_text(), &mut product) {
        map.insert(
            "aggregateRating".into(),
            serde_json::json!({
                "@type": "AggregateRating",
                "ratingValue": average,
                "reviewCount": summary.count(),
                "bestRating": 5,
                "worstRating": 1,
            }),
        );
        let reviews: Vec<serde_json::Value> = reviews
            .iter()
            .filter(|review| review.status == Status::Approved)
            .map(|review| {
                serde_json::json!({
                    "@type": "Review",
                    "name": review.title,
                    "reviewBody": review.body,
                    "author": { "@type": "Person", "name": review.author },
                    "reviewRating": { "@type": "Rating", "ratingValue": review.rating, "bestRating": 5, "worstRating": 1 },
                })
            })
            .collect();
        map.insert("review".into(), serde_json::Value::Array(reviews));
    }
    escape_script_json(&product.to_string())
}

/// JSON that is safe inside a `<script>` element: the characters that could end it or
/// start markup become `\u` escapes (still the same JSON value).
pub fn escape_script_json(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// What a moderation action applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Review,
    Question,
    Answer,
}

impl Target {
    pub fn key(self) -> &'static str {
        match self {
            Target::Review => "review",
            Target::Question => "question",
            Target::Answer => "answer",
        }
    }

    pub fn parse(key: &str) -> Option<Target> {
        match key {
            "review" => Some(Target::Review),
            "question" => Some(Target::Question),
            "answer" => Some(Target::Answer),
            _ => None,
        }
    }
}

/// An item waiting for a moderator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = ReviewQueueItem))]
pub struct QueueItem {
    pub kind: Target,
    pub id: i64,
    pub sku: String,
    pub product_name: String,
    pub author: String,
    pub author_email: String,
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub body: String,
    pub verified_buyer: bool,
    /// Why it needs a human (blocked word, not a verified buyer, …).
    pub flag_reason: Option<String>,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_review_needs_one_to_five_stars_a_title_and_a_body_within_limits() {
        assert!(ReviewDraft::parse(5, "Great", "Works well.").is_ok());
        for stars in [0, 6, -1, i64::MAX] {
            assert_eq!(ReviewDraft::parse(stars, "t", "b").unwrap_err().field, "rating");
        }
        assert_eq!(ReviewDraft::parse(3, "t", "   ").unwrap_err().field, "body");
        assert_eq!(ReviewDraft::parse(3, "", "b").unwrap_err().field, "title");
        let long = "x".repeat(BODY_MAX + 1);
        let error = ReviewDraft::parse(3, "t", &long).unwrap_err();
        assert_eq!(error.field, "body");
        assert!(error.message.contains("5000"), "{}", error.message);
        assert!(ReviewDraft::parse(3, "t", &"x".repeat(BODY_MAX)).is_ok());
        assert_eq!(ReviewDraft::parse(3, "t", "a\u{0}b").unwrap_err().field, "body");
        assert_eq!(ReviewDraft::parse_form("x", "t", "b").unwrap_err().field, "rating");
        assert_eq!(ReviewDraft::parse_form(" 4 ", " t ", " b\r\nc ").unwrap().body, "b\nc");
    }

    #[test]
    fn the_blocklist_matches_whole_words_ignoring_case() {
        let list = Blocklist::parse("scam, free money\nSPAM,, ").unwrap();
        assert_eq!(list.words(), ["free money", "scam", "spam"]);
        assert_eq!(list.first_match("This is a SCAM!"), Some("scam"));
        assert_eq!(list.first_match("get free money now"), Some("free money"));
        assert_eq!(list.first_match("scampi are tasty"), None);
        assert_eq!(list.first_match("antispam filter"), None);
        assert!(Blocklist::parse(&"x".repeat(41)).is_err());
        assert_eq!(Blocklist::parse("").unwrap().first_match("anything"), None);
    }

    #[test]
    fn screening_sends_everything_but_trusted_clean_text_to_a_human() {
        let list = Blocklist::parse("scam").unwrap();
        assert_eq!(screen_review(true, true, &list, "lovely"), Screening::Approve);
        assert!(matches!(screen_review(true, true, &list, "a scam"), Screening::Human(r) if r.contains("scam")));
        assert!(matches!(screen_review(true, false, &list, "lovely"), Screening::Human(_)));
        assert!(matches!(screen_review(false, true, &list, "lovely"), Screening::Human(r) if r.contains("verified")));
        assert_eq!(screen_qa(true, &list, "yes it fits"), Screening::Approve);
        assert!(matches!(screen_qa(true, &list, "scam"), Screening::Human(_)));
        assert!(matches!(screen_qa(false, &list, "yes"), Screening::Human(_)));
    }

    #[test]
    fn the_summary_averages_in_integer_tenths() {
        let summary = RatingSummary { histogram: [0, 0, 1, 1, 1] };
        assert_eq!((summary.count(), summary.total(), summary.average_text().as_deref()), (3, 12, Some("4.0")));
        let summary = RatingSummary { histogram: [1, 0, 0, 0, 2] };
        assert_eq!(summary.average_text().as_deref(), Some("3.7"));
        assert_eq!(summary.percent(5), 66);
        assert_eq!(RatingSummary::default().average_text(), None);
        // 4.25 rounds half up to 4.3.
        assert_eq!(RatingSummary { histogram: [0, 0, 0, 3, 1] }.average_text().as_deref(), Some("4.3"));
    }

    #[test]
    fn sponsored_and_incentivized_content_is_disclosed() {
        assert_eq!(disclosures(None, 0), vec![]);
        assert_eq!(disclosures(Some(" "), 0), vec![]);
        let labels = disclosures(Some("Acme"), 50);
        assert_eq!(
            labels.iter().map(Disclosure::text).collect::<Vec<_>>(),
            ["Sponsored by Acme", "Incentivized review: the author received 50 points"]
        );
    }

    #[test]
    fn answers_put_the_featured_one_first_then_votes() {
        let answer = |id, votes| Answer {
            id,
            question_id: 1,
            body: String::new(),
            author: String::new(),
            is_staff: false,
            verified_buyer: false,
            sponsored_by: None,
            votes,
            created_at: id,
            status: Status::Approved,
        };
        let mut answers = vec![answer(1, 1), answer(2, 5), answer(3, 0)];
        order_answers(&mut answers, Some(3));
        assert_eq!(answers.iter().map(|a| a.id).collect::<Vec<_>>(), [3, 2, 1]);
        order_answers(&mut answers, None);
        assert_eq!(answers.iter().map(|a| a.id).collect::<Vec<_>>(), [2, 1, 3]);
    }

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let review = Review {
            id: 1,
            sku: "S".into(),
            rating: 5,
            title: "</script><script>alert(1)</script>".into(),
            body: "<img src=x onerror=alert(1)> & more".into(),
            author: "Eve".into(),
            verified_buyer: true,
            sponsored_by: None,
            incentive_points: 0,
            helpful_count: 0,
            merchant_reply: None,
            created_at: 0,
            updated_at: 0,
            status: Status::Approved,
            reject_reason: None,
        };
        let summary = RatingSummary { histogram: [0, 0, 0, 0, 1] };
        let text = json_ld("Mug", "S", "d", "/i.svg", 1299, &summary, &[review]);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["review"][0]["name"], "</script><script>alert(1)</script>");
        assert_eq!(value["aggregateRating"]["ratingValue"], "5.0");
        assert_eq!(value["offers"]["price"], "12.99");
        // No reviews: no aggregate (search engines reject an empty one).
        let bare = json_ld("Mug", "S", "d", "/i.svg", 1299, &RatingSummary::default(), &[]);
        assert!(!bare.contains("aggregateRating"));
    }

    proptest! {
        #[test]
        fn the_average_is_within_one_to_five_and_percents_sum_to_at_most_100(
            histogram in proptest::array::uniform5(0i64..1_000_000)
        ) {
            let summary = RatingSummary { histogram };
            if let Some(tenths) = summary.average_tenths() {
                prop_assert!((10..=50).contains(&tenths));
                let exact = summary.total() as f64 / summary.count() as f64;
                prop_assert!((tenths as f64 / 10.0 - exact).abs() <= 0.05 + 1e-9);
            }
            prop_assert!((1..=5).map(|s| summary.percent(s)).sum::<i64>() <= 100);
        }

        #[test]
        fn escaped_json_round_trips_any_text(title in ".*") {
            let json = escape_script_json(&serde_json::json!({ "t": title }).to_string());
            prop_assert!(!json.contains('<'));
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back["t"].as_str().unwrap(), title.as_str());
        }
    }
}
