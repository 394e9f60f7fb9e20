//! A tenant's `schema_name`: the one rule, used by the API, the CLI and the docs alike.
//! It is also a valid (unquoted) PostgreSQL identifier, so a future PostgreSQL backend
//! can use it as a schema name; 63 is PostgreSQL's identifier limit. Uniqueness is the
//! registry's to check (its primary key); this module holds what can be said of the name
//! alone.

use super::DomainError;

/// The rule, in the words the problem detail and the docs use.
pub const RULE: &str = "must start with `t_`, then one or more of `a-z`, `0-9` and `_`, at most \
     63 characters in all; `public` and `template` are reserved";

/// The longest schema_name (PostgreSQL's identifier limit).
pub const MAX_LEN: usize = 63;

/// Names no new tenant can have: the default tenant and the template database.
pub const RESERVED: [&str; 2] = ["public", "template"];

/// Checks a proposed schema_name against the rule; the error names the field and says
/// the whole rule.
pub fn check(name: &str) -> Result<(), DomainError> {
    let refuse = |why: &str| {
        Err(DomainError::invalid(
            "schema_name",
            format!("{why}; it {RULE}"),
        ))
    };
    if RESERVED.contains(&name) {
        return refuse(&format!("{name:?} is reserved"));
    }
    let Some(rest) = name.strip_prefix("t_") else {
        return refuse("does not start with `t_`");
    };
    if rest.is_empty() {
        return refuse("has nothing after `t_`");
    }
    if name.len() > MAX_LEN {
        return refuse(&format!("is {} characters long", name.chars().count()));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return refuse(&format!("holds {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_the_rule() {
        let at_limit = format!("t_{}", "a".repeat(61));
        assert_eq!(at_limit.len(), 63);
        assert_eq!(check(&at_limit), Ok(()));
        let over = format!("t_{}", "a".repeat(62));
        let err = check(&over).unwrap_err().to_string();
        assert!(err.contains("is 64 characters long"), "{err}");
        for ok in ["t_a", "t_0", "t__", "t_acme_2", "t_9_x"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("t_", "nothing after `t_`"),
            ("T_acme", "does not start with `t_`"),
            ("t_Acme", "holds 'A'"),
            ("t_ac-me", "holds '-'"),
            ("t_ac me", "holds ' '"),
            ("t_é", "holds 'é'"),
            ("acme", "does not start with `t_`"),
            ("", "does not start with `t_`"),
            ("public", "\"public\" is reserved"),
            ("template", "\"template\" is reserved"),
        ] {
            let err = check(bad).unwrap_err().to_string();
            assert!(err.starts_with("schema_name: "), "{bad}: {err}");
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.ends_with(RULE), "{bad}: {err}");
        }
    }
}
