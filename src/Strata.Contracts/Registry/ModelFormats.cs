namespace Strata.Contracts.Registry;

/// <summary>Artifact formats the registry records and serving can load.</summary>
public static class ModelFormats
{
    /// <summary>An ML.NET model zip (pipeline including normalisation) with a <c>Features</c> float vector input.</summary>
    public const string MlNet = "mlnet";
}
