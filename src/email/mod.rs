//! Delivering email: the SMTP or log transport, and the worker that drains
//! the outbox. What the messages say is the domain's (`domain::emails`).

pub mod mailer;
pub mod worker;
