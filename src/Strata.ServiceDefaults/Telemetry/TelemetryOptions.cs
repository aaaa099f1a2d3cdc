using System.ComponentModel.DataAnnotations;

namespace Strata.ServiceDefaults.Telemetry;

/// <summary>Traces and metrics (section <c>Strata:Otel</c>). Metrics are always collected and served at <c>/metrics</c>
/// unless <see cref="Metrics"/> is false; traces are recorded when they go somewhere: an OTLP <see cref="Endpoint"/>
/// (Jaeger, Tempo, an OpenTelemetry Collector), or <see cref="Tracing"/> set true.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Strata:Otel";

    /// <summary>Where spans are exported over OTLP (env <c>Strata__Otel__Endpoint</c>); unset, nothing is exported.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary><c>grpc</c> (port 4317 by convention) or <c>http/protobuf</c> (4318; <c>/v1/traces</c> is added to an
    /// endpoint given without a path).</summary>
    [RegularExpression("^(grpc|http/protobuf)$", ErrorMessage = "Strata:Otel:Protocol must be grpc or http/protobuf")]
    public string Protocol { get; set; } = "grpc";

    /// <summary>Share of new traces recorded (a request that arrives with a sampled <c>traceparent</c> is always
    /// recorded: the decision is the caller's). 1% is Istio's default: enough traces to follow a slow request from its
    /// metric's exemplar, little enough to leave the hot path as fast as it is.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Strata:Otel:SampleRatio must be between 0 and 1")]
    public double SampleRatio { get; set; } = 0.01;

    /// <summary>Record spans even without an endpoint (trace ids in logs and metric exemplars); true when an endpoint
    /// is set, unless set false.</summary>
    public bool? Tracing { get; set; }

    /// <summary>Collect metrics and serve <c>/metrics</c> (default on).</summary>
    public bool Metrics { get; set; } = true;

    public bool TracingEnabled => Tracing ?? Endpoint is not null;
}
