//! The channels a notice takes besides mail, each speaking its provider's documented request
//! and answer: 企业微信/政务微信 and 钉钉 group robots (`robots`), webhooks signed per the
//! Standard Webhooks specification (`webhook`), and SMS through a public cloud's API or an
//! office's own gateway (`sms`). Every answer is sorted into the outbox's three outcomes —
//! accepted, wait (an outage or a "too many"), refused for good with the provider's own code
//! and message — and the outbox keeps its promises for all of them (docs/rules.md §4).

mod answer;
mod deliver;
mod kinds;
mod robots;
mod sign;
mod sms;
mod webhook;

pub use answer::{Attempt, Refusal};
pub use deliver::{deliver, http_client, install_crypto};
pub use kinds::{ChannelKind, Level, rate_per_minute};
pub use sign::{aliyun_signature, dingtalk_sign, standard_webhook_signature};
pub use sms::fill_template;
