//! The automated moderation pre-screen: rules a moderator would apply at a glance, run on
//! every review, question and answer before it is stored. Each finding is a [`Reason`] the
//! moderator sees next to the item, and together they pick a [`Route`]: publish, hold for a
//! human, or refuse. Pure (no I/O), compiled for server and browser, so any kind of user
//! post (reviews, Q&A, community posts) can call [`prescreen`] with the facts it has.
//!
//! **Rationale:** the rules only ever make moderation stricter. A clean verdict lets an item
//! through only where the owner's trust policy already allows it (verified buyers with
//! auto-approval on, staff answers); anything found sends it to a human, and only what is
//! unmistakably spam or abuse is refused outright, so a false positive costs a moderator a
//! click, not a customer's review.

use super::domain::Blocklist;
use serde::{Deserialize, Serialize};

/// Where an item goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Nothing found: published where the owner's policy allows it.
    Approve,
    /// Held in the moderation queue with its reasons.
    Review,
    /// Refused: spam or abuse beyond doubt.
    Reject,
}

impl Route {
    pub fn key(self) -> &'static str {
        match self {
            Route::Approve => "approve",
            Route::Review => "review",
            Route::Reject => "reject",
        }
    }

    pub fn parse(raw: &str) -> Option<Route> {
        [Route::Approve, Route::Review, Route::Reject].into_iter().find(|route| route.key() == raw)
    }
}

/// One finding of the pre-screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Reason {
    /// A word from the owner's blocklist.
    BlockedWord {
        word: String,
    },
    /// A built-in spam phrase ("click here", "work from home").
    SpamPhrase {
        phrase: String,
    },
    /// A built-in insult or profanity.
    Abuse {
        word: String,
    },
    /// Harassment no shop publishes ("kill yourself").
    Harassment {
        phrase: String,
    },
    Link,
    Email,
    Phone,
    /// Mostly capital letters; the share in percent.
    Shouting {
        caps_pct: u32,
    },
    /// The same text as one of the author's recent items.
    Repeated,
    /// Nearly the same text as one of the author's recent items (similarity in percent).
    NearDuplicate {
        similarity_pct: u32,
    },
    /// A new account posting many items fast.
    Velocity {
        account_age_hours: i64,
        items_last_hour: u32,
    },
}

impl Reason {
    /// The route this finding alone calls for.
    pub fn route(&self) -> Route {
        match self {
            Reason::Harassment { .. } | Reason::Repeated => Route::Reject,
            Reason::Velocity { items_last_hour, .. } if *items_last_hour >= VELOCITY_REJECT => Route::Reject,
            _ => Route::Review,
        }
    }

    /// What the moderator reads.
    pub fn text(&self) -> String {
        match self {
            Reason::BlockedWord { word } => format!("contains the blocked word \"{word}\""),
            Reason::SpamPhrase { phrase } => format!("spam phrase \"{phrase}\""),
            Reason::Abuse { word } => format!("abusive word \"{word}\""),
            Reason::Harassment { phrase } => format!("harassment (\"{phrase}\")"),
            Reason::Link => "contains a link".to_string(),
            Reason::Email => "contains an e-mail address".to_string(),
            Reason::Phone => "contains a phone number".to_string(),
            Reason::Shouting { caps_pct } => format!("mostly capital letters ({caps_pct} %)"),
            Reason::Repeated => "same text as one of the author's recent posts".to_string(),
            Reason::NearDuplicate { similarity_pct } => {
                format!("{similarity_pct} % the same as one of the author's recent posts")
            }
            Reason::Velocity { account_age_hours, items_last_hour } => {
                format!("account {account_age_hours} h old posted {items_last_hour} items in the last hour")
            }
        }
    }

    fn is_contact(&self) -> bool {
        matches!(self, Reason::Link | Reason::Email | Reason::Phone)
    }
}

/// What is known about the author when the item arrives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorFacts {
    /// Since the account was created.
    pub account_age_ms: i64,
    /// Items (of any kind) the author posted in the hour before this one.
    pub items_last_hour: u32,
    /// The author's recent texts (newest first), for repeats.
    pub recent_texts: Vec<String>,
}

/// The pre-screen's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub route: Route,
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// Nothing found: what the shop's own staff write gets (the pre-screen guards against
    /// shoppers' spam; staff answers link to care guides and repeat themselves by nature,
    /// and the blocklist still applies to them through the moderation policy).
    pub fn staff() -> Verdict {
        Verdict { route: Route::Approve, reasons: Vec::new() }
    }

    /// Review or reject: a human or the rules must act.
    pub fn needs_action(&self) -> bool {
        self.route != Route::Approve
    }

    /// The reasons as one line for the moderator, `None` when there are none.
    pub fn summary(&self) -> Option<String> {
        (!self.reasons.is_empty()).then(|| self.reasons.iter().map(Reason::text).collect::<Vec<_>>().join("; "))
    }
}

/// Accounts younger than this count as new for the velocity rule.
pub const NEW_ACCOUNT_MS: i64 = 24 * 3_600_000;
/// Items in an hour from a new account that need a human, and that are refused.
pub const VELOCITY_REVIEW: u32 = 3;
pub const VELOCITY_REJECT: u32 = 12;
/// Capital letters (of at least [`SHOUTING_MIN_LETTERS`]) that make a text shouting, percent.
pub const SHOUTING_PCT: u32 = 70;
pub const SHOUTING_MIN_LETTERS: usize = 12;
/// Overlap with a recent text that makes a near-duplicate, percent.
pub const NEAR_DUPLICATE_PCT: u32 = 60;
/// Texts shorter than this many words are never repeats.
pub const MIN_REPEAT_WORDS: usize = 4;

/// Spam phrases, matched as whole words, case-insensitive.
pub const SPAM_PHRASES: &[&str] = &[
    "click here",
    "buy now",
    "free money",
    "make money",
    "earn money",
    "earn $",
    "work from home",
    "crypto",
    "bitcoin",
    "btc",
    "forex",
    "casino",
    "betting",
    "viagra",
    "cialis",
    "payday loan",
    "loans",
    "followers",
    "backlinks",
    "seo services",
    "promo code",
    "discount code",
    "coupon code",
    "dm me",
    "whatsapp",
    "telegram",
    "giveaway",
    "limited offer",
    "100% free",
    "replica",
    "onlyfans",
    "investment opportunity",
    "double your",
    "get paid",
];

/// Insults and profanity: a human decides whether the review is still fair comment.
pub const ABUSE_WORDS: &[&str] = &[
    "idiot", "idiots", "moron", "morons", "stupid", "dumbass", "scum", "fuck", "fucking", "fucked", "shit", "bullshit",
    "asshole", "bastard", "bitch", "wanker", "shut up", "scammer", "scammers", "thieves", "crook", "crooks",
];

/// Harassment: refused.
pub const HARASSMENT_PHRASES: &[&str] = &["kill yourself", "kys", "retard", "retarded", "i know where you live"];

/// Top-level domains recognised in bare links ("example.com/shop").
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "co", "uk", "de", "fr", "nl", "ru", "cn", "biz", "info", "xyz", "shop", "store", "top",
    "link", "click", "online", "site", "app", "me", "ly", "gl", "eu", "us", "tk", "ee", "ai", "tv", "cc", "gg", "es",
    "it", "pl", "ca", "au", "jp",
];

/// Screens one item. `text` is everything the author wrote (a review's title and body).
pub fn prescreen(text: &str, author: &AuthorFacts, blocklist: &Blocklist) -> Verdict {
    let lower = text.to_lowercase();
    let mut reasons = Vec::new();
    if let Some(phrase) = HARASSMENT_PHRASES.iter().find(|p| contains_words(&lower, p)) {
        reasons.push(Reason::Harassment { phrase: phrase.to_string() });
    }
    if let Some(word) = blocklist.first_match(text) {
        reasons.push(Reason::BlockedWord { word: word.to_string() });
    }
    if let Some(phrase) = SPAM_PHRASES.iter().find(|p| contains_words(&lower, p)) {
        reasons.push(Reason::SpamPhrase { phrase: phrase.to_string() });
    }
    if let Some(word) = ABUSE_WORDS.iter().find(|w| contains_words(&lower, w)) {
        reasons.push(Reason::Abuse { word: word.to_string() });
    }
    if has_link(&lower) {
        reasons.push(Reason::Link);
    }
    if has_email(&lower) {
        reasons.push(Reason::Email);
    }
    if has_phone(text) {
        reasons.push(Reason::Phone);
    }
    if let Some(caps_pct) = shouting(text) {
        reasons.push(Reason::Shouting { caps_pct });
    }
    let normalized = normalize(text);
    // "Good" on five products is a terse customer, not a spammer.
    if normalized.split(' ').count() >= MIN_REPEAT_WORDS {
        let mut best = 0;
        for recent in &author.recent_texts {
            let recent = normalize(recent);
            if recent == normalized {
                best = 100;
                break;
            }
            best = best.max(similarity_pct(&normalized, &recent));
        }
        if best == 100 {
            reasons.push(Reason::Repeated);
        } else if best >= NEAR_DUPLICATE_PCT {
            reasons.push(Reason::NearDuplicate { similarity_pct: best });
        }
    }
    if author.account_age_ms < NEW_ACCOUNT_MS && author.items_last_hour >= VELOCITY_REVIEW {
        reasons.push(Reason::Velocity {
            account_age_hours: author.account_age_ms.max(0) / 3_600_000,
            items_last_hour: author.items_last_hour,
        });
    }
    Verdict { route: route_of(&reasons), reasons }
}

/// The strictest route of the findings, raised to a refusal for the combinations that are
/// spam beyond doubt: a spam phrase with a way to reach the spammer, or three findings at once.
fn route_of(reasons: &[Reason]) -> Route {
    let strictest = reasons.iter().map(Reason::route).max().unwrap_or(Route::Approve);
    let spam = reasons.iter().any(|r| matches!(r, Reason::SpamPhrase { .. }));
    let contact = reasons.iter().any(Reason::is_contact);
    if (spam && contact) || reasons.len() >= 3 {
        Route::Reject
    } else {
        strictest
    }
}

/// Whether `phrase` occurs in `haystack` (both lowercase) with no letter or digit right
/// before or after it.
fn contains_words(haystack: &str, phrase: &str) -> bool {
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    haystack.match_indices(phrase).any(|(start, _)| {
        let before = haystack[..start].chars().next_back();
        let after = haystack[start + phrase.len()..].chars().next();
        let edge_before = phrase.chars().next().is_some_and(|c| !is_word_char(c));
        let edge_after = phrase.chars().next_back().is_some_and(|c| !is_word_char(c));
        (edge_before || !before.is_some_and(is_word_char)) && (edge_after || !after.is_some_and(is_word_char))
    })
}

fn trim_token(token: &str) -> &str {
    token.trim_matches(|c: char| !c.is_alphanumeric() && c != '/')
}

/// URLs with a scheme or `www.`, bare domains with a known top-level domain, and the
/// "example dot com" spelling.
fn has_link(lower: &str) -> bool {
    if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
        return true;
    }
    if TLDS.iter().any(|tld| contains_words(lower, &format!("dot {tld}"))) {
        return true;
    }
    lower.split_whitespace().map(trim_token).any(|token| {
        if token.contains('@') {
            return false;
        }
        let host = token.split('/').next().unwrap_or("");
        let mut labels = host.rsplit('.');
        let (Some(tld), Some(name)) = (labels.next(), labels.next()) else { return false };
        TLDS.contains(&tld)
            && name.len() >= 2
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && name.chars().any(|c| c.is_ascii_alphabetic())
    })
}

fn has_email(lower: &str) -> bool {
    lower.split_whitespace().map(trim_token).any(|token| {
        let Some((local, domain)) = token.split_once('@') else { return false };
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) || lower.contains(" at gmail")
        || lower.contains("(at)")
}

/// A run of at least 9 digits, possibly broken by spaces, dashes, dots, slashes or
/// parentheses, and optionally led by `+`: long enough to be a phone number and not a
/// price, a weight or a year.
fn has_phone(text: &str) -> bool {
    let mut digits = 0;
    let mut separators_in_a_row = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            separators_in_a_row = 0;
            if digits >= 9 {
                return true;
            }
        } else if matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '+') && (digits > 0 || c == '+') {
            separators_in_a_row += 1;
            if separators_in_a_row > 2 {
                digits = 0;
            }
        } else {
            digits = 0;
            separators_in_a_row = 0;
        }
    }
    false
}

/// The share of capital letters, when the text has enough cased letters and most are capitals.
fn shouting(text: &str) -> Option<u32> {
    let (mut upper, mut cased) = (0usize, 0usize);
    for c in text.chars() {
        if c.is_uppercase() {
            upper += 1;
            cased += 1;
        } else if c.is_lowercase() {
            cased += 1;
        }
    }
    if cased < SHOUTING_MIN_LETTERS {
        return None;
    }
    let pct = (upper * 100 / cased) as u32;
    (pct >= SHOUTING_PCT).then_some(pct)
}

/// Lowercase words separated by single spaces: what "the same text" compares.
fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The larger Jaccard overlap, in percent, of the two texts' words and of their word pairs:
/// words catch a swapped noun ("great tea" for "great coffee"), pairs a reordered copy.
fn similarity_pct(a: &str, b: &str) -> u32 {
    fn jaccard<T: Ord>(a: &std::collections::BTreeSet<T>, b: &std::collections::BTreeSet<T>) -> u32 {
        let union = a.union(b).count();
        if union == 0 {
            return 0;
        }
        (a.intersection(b).count() * 100 / union) as u32
    }
    let (words_a, words_b): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    let pairs = |words: &[&str]| -> std::collections::BTreeSet<(String, String)> {
        words.windows(2).map(|pair| (pair[0].to_string(), pair[1].to_string())).collect()
    };
    let by_words = jaccard(&words_a.iter().collect(), &words_b.iter().collect());
    let by_pairs = jaccard(&pairs(&words_a), &pairs(&words_b));
    by_words.max(by_pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn veteran() -> AuthorFacts {
        AuthorFacts { account_age_ms: 400 * 24 * HOUR, items_last_hour: 0, recent_texts: Vec::new() }
    }

    fn check(text: &str, author: &AuthorFacts, route: Route, rules: &[&str]) {
        let verdict = prescreen(text, author, &Blocklist::parse("fake review, bogus").unwrap());
        assert_eq!(verdict.route, route, "{text}: {:?}", verdict.reasons);
        let found: Vec<String> = verdict
            .reasons
            .iter()
            .map(|r| serde_json::to_value(r).unwrap()["rule"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(found, rules, "{text}");
    }

    #[test]
    fn a_clean_review_is_approved_with_no_reasons() {
        check(
            "Lovely beans, a little oily. Great for espresso, 250 g lasts us a week.",
            &veteran(),
            Route::Approve,
            &[],
        );
        let verdict = prescreen("Fine.", &veteran(), &Blocklist::default());
        assert!(!verdict.needs_action());
        assert_eq!(verdict.summary(), None);
    }

    #[test]
    fn blocklisted_words_match_whole_words_only() {
        check("This is a bogus listing", &veteran(), Route::Review, &["blocked_word"]);
        check("Probably a FAKE REVIEW site", &veteran(), Route::Review, &["blocked_word"]);
        check("Bogusław from Kraków loved it", &veteran(), Route::Approve, &[]);
        check("Click here for more", &veteran(), Route::Review, &["spam_phrase"]);
        check("I clicked here and there", &veteran(), Route::Approve, &[]);
        check("You are an idiot", &veteran(), Route::Review, &["abuse"]);
        check("Idiotproof design, very simple", &veteran(), Route::Approve, &[]);
        check("Nobody cares, kill yourself", &veteran(), Route::Reject, &["harassment"]);
    }

    #[test]
    fn links_emails_and_phone_numbers_are_found_but_prices_and_weights_are_not() {
        check("See https://example.org/x", &veteran(), Route::Review, &["link"]);
        check("cheaper at shop-deals.xyz/kettle", &veteran(), Route::Review, &["link"]);
        check("go to bestbeans dot com", &veteran(), Route::Review, &["link"]);
        check("write to joe.bloggs@mail.example", &veteran(), Route::Review, &["email"]);
        check("call me on +44 20 7946 0958", &veteran(), Route::Review, &["phone"]);
        check("Call 555-867-5309 today", &veteran(), Route::Review, &["phone"]);
        check("Costs 19.99, weighs 1.5 kg, bought in 2024, e.g. for 3-4 cups.", &veteran(), Route::Approve, &[]);
        check("Fits the V60 02 and the 1.2 l kettle.Works fine", &veteran(), Route::Approve, &[]);
    }

    #[test]
    fn a_spam_phrase_with_a_way_to_reach_the_spammer_is_rejected() {
        check("Work from home! Visit www.easy-cash.biz", &veteran(), Route::Reject, &["spam_phrase", "link"]);
        check("Crypto tips, whatsapp 0044 7700 900123", &veteran(), Route::Reject, &["spam_phrase", "phone"]);
    }

    #[test]
    fn shouting_needs_enough_letters_and_mostly_capitals() {
        check("WORST KETTLE EVER, IT LEAKS", &veteran(), Route::Review, &["shouting"]);
        check("LOVE IT", &veteran(), Route::Approve, &[]);
        check("Great with the AEROPRESS and a V60 from NYC", &veteran(), Route::Approve, &[]);
    }

    #[test]
    fn a_repeated_text_is_rejected_and_a_near_duplicate_held() {
        let author = AuthorFacts {
            recent_texts: vec!["Great product, fast delivery, would buy again from this shop.".into()],
            ..veteran()
        };
        check("great product - fast delivery - would buy again from this shop!", &author, Route::Reject, &["repeated"]);
        check(
            "Great product, fast delivery, would buy again from this store.",
            &author,
            Route::Review,
            &["near_duplicate"],
        );
        check("The grinder is loud but consistent.", &author, Route::Approve, &[]);
        let terse = AuthorFacts { recent_texts: vec!["My take\nGood".into()], ..veteran() };
        check("My take: good", &terse, Route::Approve, &[]);
    }

    #[test]
    fn a_new_account_posting_fast_is_held_then_refused() {
        let new = |items| AuthorFacts { account_age_ms: 2 * HOUR, items_last_hour: items, recent_texts: Vec::new() };
        check("Nice mug", &new(2), Route::Approve, &[]);
        check("Nice mug", &new(3), Route::Review, &["velocity"]);
        check("Nice mug", &new(12), Route::Reject, &["velocity"]);
        let old = AuthorFacts { items_last_hour: 20, ..veteran() };
        check("Nice mug", &old, Route::Approve, &[]);
    }

    #[test]
    fn three_findings_at_once_are_rejected_and_the_summary_lists_them() {
        let verdict = prescreen("YOU IDIOTS, CALL 0800 123 4567 NOW", &veteran(), &Blocklist::default());
        assert_eq!(verdict.route, Route::Reject);
        let summary = verdict.summary().unwrap();
        assert!(
            summary.contains("abusive word \"idiots\"") && summary.contains("phone") && summary.contains("capital")
        );
    }

    /// One labelled item of the fixture.
    #[derive(Deserialize)]
    struct Labelled {
        text: String,
        #[serde(default)]
        age_h: Option<i64>,
        #[serde(default)]
        last_hour: u32,
        #[serde(default)]
        recent: Vec<String>,
        label: String,
    }

    #[test]
    fn precision_and_recall_of_needs_action_on_the_labelled_fixture_meet_their_floors() {
        let fixture = include_str!("fixtures/moderation.jsonl");
        let blocklist = Blocklist::parse("fake review").unwrap();
        let (mut tp, mut fp, mut fn_, mut tn, mut exact, mut n) = (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
        let mut misses = Vec::new();
        for (line_no, line) in fixture.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let item: Labelled =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", line_no + 1));
            let expected = Route::parse(&item.label).unwrap_or_else(|| panic!("line {}: label", line_no + 1));
            let author = AuthorFacts {
                account_age_ms: item.age_h.unwrap_or(24 * 200) * HOUR,
                items_last_hour: item.last_hour,
                recent_texts: item.recent,
            };
            let verdict = prescreen(&item.text, &author, &blocklist);
            n += 1;
            exact += u32::from(verdict.route == expected);
            match (expected != Route::Approve, verdict.needs_action()) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => tn += 1,
            }
            if verdict.route != expected {
                misses.push(format!("line {}: expected {}, got {:?}", line_no + 1, item.label, verdict));
            }
        }
        assert!(n >= 200, "the fixture has {n} items; it needs at least 200");
        let precision = f64::from(tp) / f64::from(tp + fp);
        let recall = f64::from(tp) / f64::from(tp + fn_);
        // Printed so a rule change shows what it did to the numbers (cargo test -- --nocapture).
        println!(
            "prescreen on {n} labelled items: needs-action precision {precision:.3}, recall {recall:.3} \
             (tp {tp}, fp {fp}, fn {fn_}, tn {tn}); exact route {exact}/{n}"
        );
        for miss in &misses {
            println!("  {miss}");
        }
        assert!(precision >= 0.9, "precision {precision:.3}");
        assert!(recall >= 0.9, "recall {recall:.3}");
        assert!(tp + fn_ >= 60 && tn >= 100, "the fixture needs both kinds: {} positives, {tn} negatives", tp + fn_);
    }
}
