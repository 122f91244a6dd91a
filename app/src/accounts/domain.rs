//! Account input types (parse, don't validate) and the user as the UI sees it.

use serde::{Deserialize, Serialize};

/// Why an account form was refused. Each error has a stable code so that a plain form post
/// (no JavaScript) can carry it back in the URL: codes, not text, so nothing a visitor types
/// is ever echoed into the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    EmailMissing,
    EmailInvalid,
    PasswordShort,
    PasswordLong,
    PasswordCommon,
    PasswordGuessable,
    PasswordIsEmail,
    NameMissing,
    NameLong,
    NameInvalid,
    WrongPassword,
    DuplicateEmail,
    TooMany,
}

impl FormError {
    const ALL: [FormError; 13] = [
        FormError::EmailMissing,
        FormError::EmailInvalid,
        FormError::PasswordShort,
        FormError::PasswordLong,
        FormError::PasswordCommon,
        FormError::PasswordGuessable,
        FormError::PasswordIsEmail,
        FormError::NameMissing,
        FormError::NameLong,
        FormError::NameInvalid,
        FormError::WrongPassword,
        FormError::DuplicateEmail,
        FormError::TooMany,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FormError::EmailMissing => "email_missing",
            FormError::EmailInvalid => "email_invalid",
            FormError::PasswordShort => "password_short",
            FormError::PasswordLong => "password_long",
            FormError::PasswordCommon => "password_common",
            FormError::PasswordGuessable => "password_guessable",
            FormError::PasswordIsEmail => "password_is_email",
            FormError::NameMissing => "name_missing",
            FormError::NameLong => "name_long",
            FormError::NameInvalid => "name_invalid",
            FormError::WrongPassword => "wrong_password",
            FormError::DuplicateEmail => "duplicate_email",
            FormError::TooMany => "too_many",
        }
    }

    pub fn from_code(code: &str) -> Option<FormError> {
        FormError::ALL.into_iter().find(|error| error.code() == code)
    }

    /// The form field the message belongs next to (`form` for the form as a whole).
    pub fn field(self) -> &'static str {
        match self {
            FormError::EmailMissing | FormError::EmailInvalid | FormError::DuplicateEmail => "email",
            FormError::PasswordShort
            | FormError::PasswordLong
            | FormError::PasswordCommon
            | FormError::PasswordGuessable
            | FormError::PasswordIsEmail => "password",
            FormError::NameMissing | FormError::NameLong | FormError::NameInvalid => "display_name",
            FormError::WrongPassword | FormError::TooMany => "form",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            FormError::EmailMissing => "Enter your e-mail address.",
            FormError::EmailInvalid => "That does not look like an e-mail address.",
            FormError::PasswordShort => "Use at least 10 characters.",
            FormError::PasswordLong => "Use at most 128 characters.",
            FormError::PasswordCommon => "That password is too common; choose another.",
            FormError::PasswordGuessable => "That password is too easy to guess.",
            FormError::PasswordIsEmail => "Your password must not be your e-mail address.",
            FormError::NameMissing => "Enter a display name.",
            FormError::NameLong => "Use at most 40 characters.",
            FormError::NameInvalid => "The name contains characters we cannot show.",
            FormError::WrongPassword => "That e-mail and password do not match.",
            FormError::DuplicateEmail => "An account with that e-mail already exists. Log in instead?",
            FormError::TooMany => "Too many attempts. Wait a minute and try again.",
        }
    }
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// A lower-cased e-mail address with one `@`, a dot in the domain and at most 254 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, FormError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FormError::EmailMissing);
        }
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FormError::EmailInvalid);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(FormError::EmailInvalid);
        };
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(FormError::EmailInvalid);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to keep: 10–128 characters, not a well-known one, not one
/// repeated character, not the e-mail address.
///
/// **Rationale:** length beats composition rules (NIST SP 800-63B); we refuse the common
/// and trivially guessable instead of demanding symbols.
pub struct Password(String);

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "adminadmin",
    "administrator",
    "abcdefghij",
    "0123456789",
    "1111111111",
    "qwerty1234",
    "passw0rd12",
    "changeme12",
    "football12",
    "monkey1234",
];

impl Password {
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Password, FormError> {
        let n_chars = raw.chars().count();
        if n_chars < 10 {
            return Err(FormError::PasswordShort);
        }
        if n_chars > 128 {
            return Err(FormError::PasswordLong);
        }
        let lowered = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lowered.as_str()) {
            return Err(FormError::PasswordCommon);
        }
        let first = raw.chars().next().unwrap_or_default();
        if raw.chars().all(|c| c == first) {
            return Err(FormError::PasswordGuessable);
        }
        if let Some(email) = email {
            if lowered == email.as_str() || lowered == email.as_str().split('@').next().unwrap_or_default() {
                return Err(FormError::PasswordIsEmail);
            }
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A name shown on leaderboards and reviews: 1–40 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, FormError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FormError::NameMissing);
        }
        if name.chars().count() > 40 {
            return Err(FormError::NameLong);
        }
        if name.chars().any(char::is_control) {
            return Err(FormError::NameInvalid);
        }
        Ok(DisplayName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Shopper,
    Admin,
}

impl Role {
    pub fn parse(raw: &str) -> Role {
        if raw == "admin" {
            Role::Admin
        } else {
            Role::Shopper
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Shopper => "shopper",
            Role::Admin => "admin",
        }
    }
}

/// The logged-in user as pages and the API see it. No secrets here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// What every page needs: who is logged in, how full the cart is, and the value of every
/// feature flag for this caller (evaluated on the server, so the page and the hydrated app
/// agree and nothing flickers).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: Option<User>,
    pub cart_count: i64,
    #[serde(default)]
    pub flags: std::collections::BTreeMap<String, serde_json::Value>,
}

impl SessionInfo {
    /// Whether boolean flag `key` is on for this caller: how components read flags.
    pub fn flag_on(&self, key: &str) -> bool {
        self.flags.get(key) == Some(&serde_json::Value::Bool(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_lower_cased_and_trimmed() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn an_email_without_at_or_domain_dot_is_rejected() {
        assert!(Email::parse("ann.example.com").is_err());
        assert!(Email::parse("ann@localhost").is_err());
        assert!(Email::parse("a@b@c.com").is_err());
        assert!(Email::parse("").is_err());
    }

    #[test]
    fn a_short_password_is_rejected() {
        assert_eq!(Password::parse("short", None).err(), Some(FormError::PasswordShort));
    }

    #[test]
    fn a_common_password_is_rejected() {
        assert!(Password::parse("Password123", None).is_err());
        assert!(Password::parse("aaaaaaaaaaaa", None).is_err());
    }

    #[test]
    fn the_email_is_not_a_password() {
        let email = Email::parse("longname@example.com").unwrap();
        assert!(Password::parse("longname@example.com", Some(&email)).is_err());
    }

    #[test]
    fn a_long_unusual_password_is_accepted() {
        assert!(Password::parse("correct horse battery", None).is_ok());
    }

    #[test]
    fn every_form_error_round_trips_through_its_code() {
        for error in FormError::ALL {
            assert_eq!(FormError::from_code(error.code()), Some(error));
        }
        assert_eq!(FormError::from_code("<b>hi</b>"), None);
    }

    #[test]
    fn a_display_name_is_trimmed_and_capped() {
        assert_eq!(DisplayName::parse("  Ann ").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(&"x".repeat(41)).is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
    }
}
