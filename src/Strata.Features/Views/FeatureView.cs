using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>A feature view: typed request inputs, typed output features and the one transform between them.
/// The same <see cref="Compute"/> runs for every training row and every online request, so training and
/// serving cannot disagree about a feature's definition.</summary>
public abstract class FeatureView
{
    public abstract string Name { get; }

    /// <summary>Changes whenever a transform's meaning changes; models record the version they were trained on.</summary>
    public abstract string Version { get; }

    public abstract string Description { get; }

    public abstract IReadOnlyList<FeatureField> Inputs { get; }

    public abstract IReadOnlyList<FeatureField> Features { get; }

    /// <summary>Computes <see cref="Features"/> from already validated <see cref="Inputs"/>.</summary>
    protected abstract void Transform(ReadOnlySpan<double> inputs, Span<double> features);

    public FeatureViewInfo Info => new(Name, Version, Description, Inputs, Features);

    /// <summary>Validates the inputs against their declared bounds, then transforms them.</summary>
    public void Compute(ReadOnlySpan<double> inputs, Span<double> features)
    {
        if (inputs.Length != Inputs.Count)
        {
            throw new InputValidationException("inputs", $"view '{Name}' takes {Inputs.Count} inputs, got {inputs.Length}");
        }
        for (var i = 0; i < inputs.Length; i++)
        {
            var field = Inputs[i];
            if (!double.IsFinite(inputs[i]))
            {
                throw new InputValidationException(field.Name, "must be a finite number");
            }
            if (field.ExclusiveMinimum is double min && !(inputs[i] > min))
            {
                throw new InputValidationException(field.Name, $"must be > {min.ToString(CultureInfo.InvariantCulture)}, got {inputs[i].ToString(CultureInfo.InvariantCulture)}");
            }
        }
        Transform(inputs, features);
    }
}
