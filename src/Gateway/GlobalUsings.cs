// Kept on purpose: the core types (Reply, SmtpPath, Verdict, MessageSpool, HeaderEdit) and the session's views
// (SessionState, Transaction) are the vocabulary of nearly every filter, rule, forwarder and sink; a using line for
// them in each of those files would say nothing. Anything narrower (Runtime, Transports) is named where it is used.
global using Gateway.Core;
global using Gateway.Session;
