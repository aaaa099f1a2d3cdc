using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Strata.Contracts.Features;

/// <summary>Training data: one column per feature (in the view's order) and the label, all of <see cref="Rows"/> values.
/// A frame retrieved point-in-time from stored features carries its <see cref="Selection"/>.</summary>
public sealed record TrainingFrame(
    string DatasetId,
    string View,
    string ViewVersion,
    int Rows,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<double[]> Features,
    double[] Label)
{
    public FeatureSelection? Selection { get; init; }
}

/// <summary>Features selected from the store (a feature service, or <c>view:feature</c> references) as a model trained on
/// them records it: the references (each <c>view:feature</c>), the entity join keys, each view's version and the
/// definitions version at training time, and how many label rows had a feature missing at their time (left out).
/// Serving fetches the same references online by the same keys.</summary>
public sealed record FeatureSelection(
    string? FeatureService,
    IReadOnlyList<string> FeatureRefs,
    IReadOnlyList<FeatureField> JoinKeys,
    IReadOnlyDictionary<string, string> ViewVersions,
    long DefinitionsVersion,
    int DroppedRows = 0)
{
    /// <summary>The tag of <see cref="View"/> holding the definitions version the model was trained with.</summary>
    public const string DefinitionsVersionTag = "definitions_version";

    /// <summary>The registry param a model version records it under (JSON).</summary>
    public const string Param = "feature_selection";

    /// <summary>The name a model's features go by: the service's, or <c>features</c> for a list of references.</summary>
    public string Name => FeatureService ?? "features";

    /// <summary>A hash of what gives the features their meaning: the references and the versions of their views.</summary>
    public string Version
    {
        get
        {
            var text = new StringBuilder();
            foreach (var reference in FeatureRefs)
            {
                text.Append(reference).Append('\n');
            }
            foreach (var (view, version) in ViewVersions.OrderBy(v => v.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"{view}={version}\n");
            }
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
        }
    }

    /// <summary>The model's view of its features: each feature an input of the same name (request-time values may
    /// override stored ones), computed as itself; <see cref="FeatureViewInfo.Sources"/> are the references to fetch.</summary>
    public FeatureViewInfo View(IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        var fields = featureNames.Select(n => new FeatureField(n, LogicalType.Float64)).ToList();
        return new FeatureViewInfo(Name, Version, $"features of {(FeatureService is null ? "a list of references" : $"feature service '{FeatureService}'")} by {string.Join(", ", JoinKeys.Select(k => k.Name))}",
            fields, [.. featureNames.Select(n => new FeatureField(n, LogicalType.Float64, Expression: FeatureExpression.Of(n)))],
            FeatureViewKinds.Service, JoinKeys: JoinKeys, Sources: FeatureRefs,
            Tags: new Dictionary<string, string> { [DefinitionsVersionTag] = DefinitionsVersion.ToString(CultureInfo.InvariantCulture) });
    }

    public string ToJson() => JsonSerializer.Serialize(this, StrataJson.Options);

    public static FeatureSelection? FromParams(IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.TryGetValue(Param, out var json) ? JsonSerializer.Deserialize<FeatureSelection>(json, StrataJson.Options) : null;
    }
}
