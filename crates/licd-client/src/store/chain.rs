//! Accepting a lease into the chain, and the directives it carries.

use super::state::{CHAIN_KEPT, HeldLease, MESSAGES_KEPT, StoredMessage, keep_last};
use super::{LeaseStore, StoreError};
use crate::formats::{ChainHead, LeaseClaims};
use crate::jose::chain_hash;
use crate::keys::PublicKey;
use crate::verify::verify_lease;
use chrono::{DateTime, Utc};

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

impl LeaseStore {
    /// Accepts a lease from licd (heartbeat or activation answer, offline response,
    /// renewal bundle) after checking it:
    ///
    /// - it verifies ([`verify_lease`]: `typ`, ES256 by one of `keys`, this Install ID
    ///   and fingerprint) and names the activation's license;
    /// - it extends the chain: `seq` is above the held lease's, and when it is the next
    ///   one (seq + 1) its `prev` is the held lease's chain hash. A gap (seq + 2 or
    ///   more) is accepted: a heartbeat answer lost on the way or a renewal file never
    ///   carried leaves one, and licd's signature with the rising `seq` and `iat` still
    ///   rules out a replayed or older lease. A new activation's first lease (seq 1,
    ///   `prev` `""`) starts the chain again;
    /// - it is not older: its `iat` is never earlier than the held lease's (else it is
    ///   refused as a replay), and it is not the lease held.
    ///
    /// Then it becomes the head; the server time high-water mark rises; `lock`,
    /// `unlock` and `message` directives licd queued are applied (each once).
    /// `install_key` directives are the caller's: verify the key and
    /// [`install_license`](Self::install_license) it. Not saved: call
    /// [`save`](Self::save).
    pub fn accept_lease(
        &mut self,
        token: &str,
        keys: &[PublicKey],
        now: DateTime<Utc>,
    ) -> Result<LeaseClaims, StoreError> {
        let token = token.trim();
        let s = &self.state;
        let (Some(install_id), Some(fingerprint)) = (&s.install_id, &s.fingerprint) else {
            return Err(StoreError::NotActivated);
        };
        let claims = verify_lease(token, keys, install_id, fingerprint)?;
        if let Some(expected) = &s.license_id
            && &claims.license_id != expected
        {
            return Err(StoreError::WrongLicense {
                expected: expected.clone(),
                found: claims.license_id,
            });
        }
        let hash = chain_hash(token);
        check_chain(s.head.as_ref(), &claims, &hash)?;
        self.apply_directives(&claims, now);
        let s = &mut self.state;
        if s.server_time_high_water
            .is_none_or(|t| t < claims.server_time)
        {
            s.server_time_high_water = Some(claims.server_time);
        }
        s.chain.push(ChainHead {
            seq: claims.seq,
            hash,
        });
        keep_last(&mut s.chain, CHAIN_KEPT);
        s.head = Some(HeldLease {
            token: token.to_owned(),
            claims: claims.clone(),
        });
        Ok(claims)
    }

    fn apply_directives(&mut self, claims: &LeaseClaims, now: DateTime<Utc>) {
        let s = &mut self.state;
        for d in &claims.directives {
            // Directives licd adds itself (no id) mirror `lock_reason`: status reads that.
            let Some(id) = d.id else { continue };
            if id <= s.last_directive_id {
                continue;
            }
            match d.kind.as_str() {
                "lock" => {
                    let text = if d.message.is_empty() {
                        "locked by the vendor"
                    } else {
                        &d.message
                    };
                    s.locked_by_directive = Some(text.to_owned());
                }
                "unlock" => s.locked_by_directive = None,
                "message" => {
                    s.messages.push(StoredMessage {
                        id: Some(id),
                        at: now,
                        text: d.message.clone(),
                    });
                    keep_last(&mut s.messages, MESSAGES_KEPT);
                }
                // install_key is the caller's (it must verify the key); unknown kinds
                // are ignored so an older appliance survives a newer licd.
                _ => continue,
            }
            s.last_directive_id = id;
        }
    }
}

/// The chain rules (see [`LeaseStore::accept_lease`]).
fn check_chain(
    head: Option<&HeldLease>,
    claims: &LeaseClaims,
    hash: &str,
) -> Result<(), StoreError> {
    let starts_chain = claims.seq == 1 && claims.prev.is_empty();
    let Some(head) = head else {
        return if starts_chain {
            Ok(())
        } else {
            Err(StoreError::ChainGap {
                seq: claims.seq,
                head_seq: 0,
            })
        };
    };
    let held = &head.claims;
    if claims.iat < held.iat {
        return Err(StoreError::OlderThanHead {
            seq: claims.seq,
            iat: time(claims.iat),
            head_seq: held.seq,
            head_iat: time(held.iat),
        });
    }
    if starts_chain {
        if chain_hash(&head.token) == hash {
            return Err(StoreError::Replay {
                seq: claims.seq,
                head_seq: held.seq,
            });
        }
        return Ok(());
    }
    if claims.seq <= held.seq {
        return Err(StoreError::Replay {
            seq: claims.seq,
            head_seq: held.seq,
        });
    }
    // A gap: the leases between were signed by licd but never arrived.
    if claims.seq != held.seq.saturating_add(1) {
        return Ok(());
    }
    if claims.prev != chain_hash(&head.token) {
        return Err(StoreError::ChainBroken {
            seq: claims.seq,
            head_seq: held.seq,
        });
    }
    Ok(())
}
