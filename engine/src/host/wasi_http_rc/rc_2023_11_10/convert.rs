//! The pre-release's `error-code` and `header-error` and 0.2's, which have the
//! same cases, converted both ways.

use wasmtime_wasi_http::p2::bindings::http::types as latest;

use super::bindings::wasi::http::types as rc;
use crate::host::wasi_http_rc::{same_cases, same_fields, same_methods_and_schemes};

same_methods_and_schemes!(super::bindings::wasi::http::types);

same_cases!(
    rc::HeaderError,
    latest::HeaderError { units: [InvalidSyntax, Forbidden, Immutable], values: [], options: [] }
);

same_fields!(rc::DnsErrorPayload, latest::DnsErrorPayload { rcode, info_code });
same_fields!(rc::TlsAlertReceivedPayload, latest::TlsAlertReceivedPayload { alert_id, alert_message });
same_fields!(rc::FieldSizePayload, latest::FieldSizePayload { field_name, field_size });

same_cases!(
    rc::ErrorCode,
    latest::ErrorCode {
        units: [
            DnsTimeout,
            DestinationNotFound,
            DestinationUnavailable,
            DestinationIpProhibited,
            DestinationIpUnroutable,
            ConnectionRefused,
            ConnectionTerminated,
            ConnectionTimeout,
            ConnectionReadTimeout,
            ConnectionWriteTimeout,
            ConnectionLimitReached,
            TlsProtocolError,
            TlsCertificateError,
            HttpRequestDenied,
            HttpRequestLengthRequired,
            HttpRequestMethodInvalid,
            HttpRequestUriInvalid,
            HttpRequestUriTooLong,
            HttpResponseIncomplete,
            HttpResponseTimeout,
            HttpUpgradeFailed,
            HttpProtocolError,
            LoopDetected,
            ConfigurationError
        ],
        values: [DnsError, TlsAlertReceived, HttpRequestTrailerSize, HttpResponseHeaderSize, HttpResponseTrailerSize],
        options: [
            HttpRequestBodySize,
            HttpRequestHeaderSectionSize,
            HttpRequestHeaderSize,
            HttpRequestTrailerSectionSize,
            HttpResponseHeaderSectionSize,
            HttpResponseBodySize,
            HttpResponseTrailerSectionSize,
            HttpResponseTransferCoding,
            HttpResponseContentCoding,
            InternalError
        ]
    }
);
