//! Email: composing the messages the system owes (escaped templates), the
//! SMTP or log transport, and the worker that drains the outbox.

pub mod compose;
pub mod mailer;
pub mod worker;
