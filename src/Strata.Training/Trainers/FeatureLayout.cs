using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Training;

namespace Strata.Training.Trainers;

/// <summary>How a frame's features enter an ML.NET pipeline. Numeric features form the float vector <c>Features</c>;
/// categorical ones (<see cref="TrainingRequest.Categorical"/>: categories coded as whole numbers) form the vector
/// <c>Categories</c>, which the pipeline one-hot encodes -- one indicator per (feature, value) over the values seen in
/// training, ordered by value; a value never seen encodes as all zeros -- and appends to the numeric ones before the
/// standardisation. The encoding is part of the saved pipeline, so serving applies exactly what training fitted; the
/// vocabulary is shared by the categorical features (ML.NET one-hot encodes a vector with one dictionary), so each
/// feature's block has one slot per value of any of them.</summary>
public sealed class FeatureLayout
{
    public const string FeaturesColumn = BinaryTrainer.FeaturesColumn;
    public const string CategoriesColumn = "Categories";

    /// <summary>Largest whole number a category code may be (codes are stored as 32-bit floats, exact up to 2^24).</summary>
    public const double MaxCode = 16_777_216;

    private readonly int[] _slot;

    private FeatureLayout(IReadOnlyList<string> names, int[] numeric, int[] categorical)
    {
        Names = names;
        Numeric = numeric;
        Categorical = categorical;
        _slot = new int[names.Count];
        for (var i = 0; i < numeric.Length; i++)
        {
            _slot[numeric[i]] = i;
        }
        for (var i = 0; i < categorical.Length; i++)
        {
            _slot[categorical[i]] = i;
        }
    }

    /// <summary>Every feature, in the frame's order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Indices (into <see cref="Names"/>) of the numeric features, in order: the slots of <c>Features</c>.</summary>
    public IReadOnlyList<int> Numeric { get; }

    /// <summary>Indices of the categorical features, in order: the slots of <c>Categories</c>.</summary>
    public IReadOnlyList<int> Categorical { get; }

    public bool HasCategories => Categorical.Count > 0;

    /// <summary>Every feature numeric.</summary>
    public static FeatureLayout AllNumeric(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return new FeatureLayout(names, [.. Enumerable.Range(0, names.Count)], []);
    }

    /// <summary>The layout of <paramref name="frame"/> with <paramref name="categorical"/> (feature names) one-hot
    /// encoded; refused (field <c>categorical</c>) when a name is not a feature or is repeated, when a value is not a
    /// whole number in [-2^24, 2^24] (missing values are allowed: they encode as all zeros), or when the categorical
    /// features have more than <see cref="TrainingRequest.MaxCategories"/> distinct values together.</summary>
    public static FeatureLayout Create(TrainingFrame frame, IReadOnlyList<string>? categorical)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (categorical is not { Count: > 0 })
        {
            return AllNumeric(frame.FeatureNames);
        }
        var indices = new List<int>();
        foreach (var name in categorical)
        {
            var index = IndexOf(frame.FeatureNames, name);
            if (index < 0)
            {
                throw new InputValidationException("categorical", $"'{name}' is not a feature of view '{frame.View}' (features: {string.Join(", ", frame.FeatureNames)})");
            }
            if (indices.Contains(index))
            {
                throw new InputValidationException("categorical", $"'{name}' is named twice");
            }
            indices.Add(index);
        }
        indices.Sort();
        var values = new HashSet<double>();
        foreach (var index in indices)
        {
            var column = frame.Features[index];
            for (var r = 0; r < column.Length; r++)
            {
                var v = column[r];
                if (double.IsNaN(v))
                {
                    continue;
                }
                if (!double.IsFinite(v) || Math.Floor(v) != v || Math.Abs(v) > MaxCode)
                {
                    throw new InputValidationException("categorical", string.Create(CultureInfo.InvariantCulture,
                        $"'{frame.FeatureNames[index]}' has {v} in row {r}; a category is a whole number of magnitude at most 2^24"));
                }
                if (values.Add(v) && values.Count > TrainingRequest.MaxCategories)
                {
                    throw new InputValidationException("categorical", string.Create(CultureInfo.InvariantCulture,
                        $"the categorical features have more than {TrainingRequest.MaxCategories} distinct values together; encode fewer, or bucket them"));
                }
            }
        }
        var numeric = Enumerable.Range(0, frame.FeatureNames.Count).Where(i => !indices.Contains(i)).ToArray();
        return new FeatureLayout(frame.FeatureNames, numeric, [.. indices]);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Row <paramref name="r"/> of <paramref name="frame"/> into <paramref name="row"/>'s two vectors.</summary>
    internal void Fill(FeatureRow row, TrainingFrame frame, int r)
    {
        // A vector with no feature stays the shared empty array: no allocation per row (a frame may have millions).
        row.Features = Numeric.Count == 0 ? [] : new float[Numeric.Count];
        row.Categories = Categorical.Count == 0 ? [] : new float[Categorical.Count];
        for (var i = 0; i < row.Features.Length; i++)
        {
            row.Features[i] = (float)frame.Features[Numeric[i]][r];
        }
        for (var i = 0; i < row.Categories.Length; i++)
        {
            row.Categories[i] = (float)frame.Features[Categorical[i]][r];
        }
    }

    /// <summary>The saved pipeline's first stages: the one-hot encoding and concatenation when there are categorical
    /// features, then the standardisation (mean/variance) of the whole vector.</summary>
    public IEstimator<ITransformer> Prepare(MLContext ml)
    {
        ArgumentNullException.ThrowIfNull(ml);
        var normalize = ml.Transforms.NormalizeMeanVariance(FeaturesColumn);
        if (!HasCategories)
        {
            return normalize;
        }
        var encode = ml.Transforms.Categorical.OneHotEncoding(CategoriesColumn, CategoriesColumn, OneHotEncodingEstimator.OutputKind.Indicator,
            maximumNumberOfKeys: TrainingRequest.MaxCategories, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue);
        var concatenate = ml.Transforms.Concatenate(FeaturesColumn, Numeric.Count > 0 ? [FeaturesColumn, CategoriesColumn] : [CategoriesColumn]);
        return encode.Append(concatenate).Append(normalize);
    }

    /// <summary>The schema of rows of <typeparamref name="TRow"/>: the vectors' sizes; a vector with no feature is not a column.</summary>
    internal SchemaDefinition Schema<TRow>()
        where TRow : FeatureRow
    {
        var schema = SchemaDefinition.Create(typeof(TRow));
        foreach (var (column, size) in new[] { (FeaturesColumn, Numeric.Count), (CategoriesColumn, Categorical.Count) })
        {
            if (size == 0)
            {
                schema.Remove(schema[column]);
            }
            else
            {
                schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            }
        }
        return schema;
    }

    /// <summary>The vectors of every row of <paramref name="view"/>.</summary>
    internal List<FeatureRow> Read(IDataView view)
    {
        var features = Numeric.Count > 0 ? view.GetColumn<float[]>(FeaturesColumn).ToList() : null;
        var categories = HasCategories ? view.GetColumn<float[]>(CategoriesColumn).ToList() : null;
        var count = features?.Count ?? categories!.Count;
        return [.. Enumerable.Range(0, count).Select(i => new FeatureRow { Features = features?[i] ?? [], Categories = categories?[i] ?? [] })];
    }

    /// <summary>Copies of <paramref name="rows"/> with feature <paramref name="feature"/> shuffled across them (seeded):
    /// what permutation importance scores.</summary>
    internal List<FeatureRow> Shuffled(List<FeatureRow> rows, int feature, int seed)
    {
        var categorical = Categorical.Contains(feature);
        var slot = _slot[feature];
        var values = rows.Select(r => (categorical ? r.Categories : r.Features)[slot]).ToArray();
        new Random(seed + feature).Shuffle(values);
        return [.. rows.Select((r, i) =>
        {
            var copy = new FeatureRow { Features = categorical ? r.Features : (float[])r.Features.Clone(), Categories = categorical ? (float[])r.Categories.Clone() : r.Categories };
            (categorical ? copy.Categories : copy.Features)[slot] = values[i];
            return copy;
        })];
    }

    /// <summary>The model's inputs in its signature: the numeric vector and the categorical one, each with its feature names.</summary>
    internal IReadOnlyList<SignatureColumn> SignatureInputs() =>
    [
        .. Numeric.Count > 0 ? [new SignatureColumn(FeaturesColumn, "FP32", [-1, Numeric.Count], [.. Numeric.Select(i => Names[i])])] : Array.Empty<SignatureColumn>(),
        .. HasCategories ? [new SignatureColumn(CategoriesColumn, "FP32", [-1, Categorical.Count], [.. Categorical.Select(i => Names[i])])] : Array.Empty<SignatureColumn>(),
    ];

    /// <summary>The categorical feature names as the version's <see cref="TrainingParameterNames.Categorical"/> param.</summary>
    public string? Parameter => HasCategories ? System.Text.Json.JsonSerializer.Serialize(Categorical.Select(i => Names[i])) : null;
}

/// <summary>A row's features as the pipeline takes them (<see cref="FeatureLayout"/>).</summary>
internal class FeatureRow
{
    public float[] Features { get; set; } = [];

    public float[] Categories { get; set; } = [];
}
