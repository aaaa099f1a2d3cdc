using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>A feature view: typed request inputs and the features computed from them, each written once (in a definitions
/// file's feature language, or as a C# lambda).
/// It is published as data (<see cref="Info"/>) and run through <see cref="FeatureTransform"/>, the same compiled code
/// that serving runs, so training and serving cannot disagree about a feature's definition.</summary>
public abstract class OnDemandFeatureView
{
    private readonly Lazy<(FeatureViewInfo Info, FeatureTransform Transform)> _compiled;

    protected OnDemandFeatureView() => _compiled = new(Compile);

    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract IReadOnlyList<FeatureField> Inputs { get; }

    public abstract IReadOnlyList<FeatureDefinition> Features { get; }

    /// <summary>Stored views whose same-named features feed this view's inputs when the request does not carry them.</summary>
    public virtual IReadOnlyList<string> Sources => [];

    /// <summary>The definition as published; its version is a hash of inputs and formulas, so any change of meaning
    /// is a new version, and a model trained on another version is refused by serving.</summary>
    public FeatureViewInfo Info => _compiled.Value.Info;

    public FeatureTransform Transform => _compiled.Value.Transform;

    /// <summary>Validates inputs (in <see cref="Inputs"/> order) and computes the features.</summary>
    public double[] Compute(double[] inputs) => Transform.Compute(inputs);

    private (FeatureViewInfo, FeatureTransform) Compile()
    {
        var features = Features.Select(f => f.ToField()).ToList();
        var definition = JsonSerializer.SerializeToUtf8Bytes(new { Inputs, features }, StrataJson.Options);
        var version = Convert.ToHexStringLower(SHA256.HashData(definition))[..12];
        var info = new FeatureViewInfo(Name, version, Description, Inputs, features, Sources: Sources.Count > 0 ? Sources : null);
        var names = Inputs.Select(i => i.Name).Concat(features.Select(f => "feature " + f.Name)).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw new InvalidOperationException($"view '{Name}' declares an input or feature name twice");
        }
        return (info, FeatureTransform.Compile(info));
    }

    /// <summary>Throws the validation error of the first bad row, in terms of the dataset.</summary>
    internal static InputValidationException RowError(string dataset, int row, string view, InputValidationException e) =>
        new("dataset_id", $"row {row} of dataset {dataset} fails view '{view}': {e.Message} (add a cleaning rule at ingestion)");
}

/// <summary>An on-demand view declared as data (a definitions file): its inputs, formulas and source views.</summary>
public sealed class DeclaredOnDemandView(string name, string description, IReadOnlyList<FeatureField> inputs,
    IReadOnlyList<FeatureDefinition> features, IReadOnlyList<string> sources) : OnDemandFeatureView
{
    public override string Name { get; } = name;

    public override string Description { get; } = description;

    public override IReadOnlyList<FeatureField> Inputs { get; } = inputs;

    public override IReadOnlyList<FeatureDefinition> Features { get; } = features;

    public override IReadOnlyList<string> Sources { get; } = sources;
}
