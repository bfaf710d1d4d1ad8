//! The client span of each outbound HTTP request a traced request's guest
//! sends, whose context the request carries as its `traceparent`.

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use super::requests::{record_status, RequestTrace};

/// The client span of one outbound HTTP request a traced request's guest sends.
pub struct OutboundSpan {
    span: opentelemetry_sdk::trace::Span,
}

impl OutboundSpan {
    /// Starts the span of `request` under the guest's innermost open span (else
    /// the request's) and writes its context into the request as `traceparent`
    /// (and `tracestate`). None when the request of `context` is not traced, or
    /// when the guest set a `traceparent` of its own (it then owns the propagation).
    pub fn start<B>(context: &Context, request: &mut http::Request<B>) -> Option<Self> {
        let trace = context.get::<RequestTrace>()?;
        if request.headers().contains_key("traceparent") {
            return None;
        }
        let guest_parent = trace.open_guest_spans.lock().unwrap_or_else(|e| e.into_inner()).last().cloned();
        let parent = match guest_parent {
            Some(guest) => Context::new().with_remote_span_context(guest),
            None => context.clone(),
        };
        let method = request.method().as_str().to_owned();
        let mut attributes = vec![
            KeyValue::new("http.request.method", method.clone()),
            KeyValue::new("url.full", without_secrets(request.uri())),
        ];
        if let Some(host) = request.uri().host() {
            attributes.push(KeyValue::new("server.address", host.to_owned()));
        }
        let span = trace
            .tracer
            .span_builder(method)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&trace.tracer, &parent);
        let propagated = Context::new().with_remote_span_context(span.span_context().clone());
        TraceContextPropagator::new().inject_context(&propagated, &mut HeaderWriter(request.headers_mut()));
        Some(Self { span })
    }

    /// Records how the request went (the response's status, or why none came)
    /// and ends the span; a 5xx or an error marks it failed.
    pub fn finish(mut self, outcome: Result<u16, String>) {
        match outcome {
            Ok(status) => record_status(&mut self.span, status),
            Err(error) => {
                self.span.set_attribute(KeyValue::new("error.type", error.clone()));
                self.span.set_status(Status::error(error));
            }
        }
        self.span.end();
    }
}

/// `uri` as a span may record it: scheme, host, port and path, without the
/// credentials of its authority or its query (which may carry keys and signatures).
fn without_secrets(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", uri.path())
}

/// Writes propagation headers into a request.
struct HeaderWriter<'a>(&'a mut http::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(key), http::HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_urls_keep_no_credentials_or_query() {
        let uri: http::Uri = "https://user:secret@api.example.com:8443/v1/items?sig=abc&key=k".parse().unwrap();
        assert_eq!(without_secrets(&uri), "https://api.example.com:8443/v1/items");
        let uri: http::Uri = "http://backend.spin.internal/x".parse().unwrap();
        assert_eq!(without_secrets(&uri), "http://backend.spin.internal/x");
    }
}
