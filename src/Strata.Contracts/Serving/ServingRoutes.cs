namespace Strata.Contracts.Serving;

/// <summary>The Serving module's routes: <c>ServingApi</c> and the protocol APIs map these templates and
/// <see cref="HttpServingClient"/> fills them (<see cref="Http.RoutePath"/>).</summary>
public static class ServingRoutes
{
    /// <summary>The seed's <c>POST /predict</c>.</summary>
    public const string Predict = "/predict";
    public const string Prefix = "/api/serving";
    public const string Status = "/status";
    public const string Traffic = "/traffic/{model}";
    public const string Feedback = "/feedback";

    /// <summary>KServe's V1 protocol: <c>/v1/models/{name}:predict</c>.</summary>
    public const string KServeV1Prefix = "/v1";

    /// <summary>The Open Inference Protocol (KServe V2): <c>/v2/models/{name}/infer</c>.</summary>
    public const string OpenInferencePrefix = "/v2";
}
