//! The console's confirmation step, one pattern for every action that locks an
//! appliance, suspends, revokes or rebinds a license, suspends it through its
//! subscription, changes a staff member's role or shortens a licensing window.
//!
//! It works without JavaScript: a form posted without `confirmed=1` is not carried
//! out; the answer (200) is a page saying what will happen to which appliance or
//! person, holding the submitted fields as hidden inputs (with the CSRF token), a
//! "Yes, …" button that posts them again with `confirmed=1`, and a Cancel link back.
//! The JSON API has no such step: an API caller confirms by calling.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::http::auth::Caller;
use actix_web::HttpResponse;
use minijinja::context;
use serde::Serialize;

/// The form field that says the user confirmed.
pub const FIELD: &str = "confirmed";

/// Whether a submitted form carries the confirmation.
pub fn is_confirmed(value: &str) -> bool {
    value == "1"
}

/// What a confirmation page says and where its buttons lead.
#[derive(Debug, Clone, Serialize)]
pub struct Confirm {
    /// The question, naming the action and its target ("Lock the appliance of …?").
    pub title: String,
    /// What will happen, to which appliance or person.
    pub what: String,
    /// Further consequences, one sentence each.
    pub consequences: Vec<String>,
    /// The confirming button ("Yes, lock it").
    pub yes: String,
    /// Where the form posts (the address it was posted to).
    pub action: String,
    /// Where Cancel leads (the page the form is on).
    pub cancel: String,
}

#[derive(Debug, Serialize)]
struct Hidden {
    name: String,
    value: String,
}

/// The submitted fields to post again (all but the CSRF token, which the page adds
/// fresh, and the confirmation itself).
fn hidden_fields(typed: &impl Serialize) -> Vec<Hidden> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(typed) else {
        return Vec::new();
    };
    map.into_iter()
        .filter(|(name, _)| name != FIELD && name != "csrf")
        .filter_map(|(name, value)| {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => return None,
                serde_json::Value::Bool(true) => "on".to_owned(),
                serde_json::Value::Bool(false) => return None,
                other => other.to_string(),
            };
            Some(Hidden { name, value })
        })
        .collect()
}

impl Confirm {
    /// The confirmation page, under the navigation entry `nav`, carrying `typed`.
    pub fn ask(
        self,
        caller: &Caller,
        nav: &'static str,
        typed: &impl Serialize,
    ) -> Result<HttpResponse, UiReject> {
        let view = View {
            template: "confirm.html",
            nav,
        };
        let ctx = context! { confirm => self, fields => hidden_fields(typed) };
        caller.render(view, ctx, Shown::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_carried_except_the_token_and_the_confirmation() {
        let typed = serde_json::json!({
            "kind": "lock", "message": "", "csrf": "t", "confirmed": "", "n": 3, "off": false,
        });
        let fields: Vec<(String, String)> = hidden_fields(&typed)
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        assert_eq!(
            fields,
            [
                ("kind".to_owned(), "lock".to_owned()),
                ("message".to_owned(), String::new()),
                ("n".to_owned(), "3".to_owned()),
            ]
        );
        assert!(is_confirmed("1") && !is_confirmed("") && !is_confirmed("yes"));
    }
}
