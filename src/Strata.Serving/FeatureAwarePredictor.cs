using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The feature-aware path of <c>/predict</c>: a request that carries entity keys (the seed's <c>user_id</c>)
/// instead of the model's inputs. Serving asks the feature store for the model's view (its inputs come from the
/// view's source views online, or from request-time fields the request carries), then scores as usual. The client
/// never assembles features.</summary>
public sealed class FeatureAwarePredictor(IFeaturesClient features, ServingService serving)
{
    private readonly ConditionalWeakTable<FeatureViewInfo, IReadOnlyList<FeatureField>> _joinKeys = [];

    /// <summary>The join keys that identify the entities of the view's sources (empty when the view reads none).</summary>
    public async ValueTask<IReadOnlyList<FeatureField>> JoinKeysAsync(FeatureViewInfo view, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (_joinKeys.TryGetValue(view, out var cached))
        {
            return cached;
        }
        if (view.Kind == FeatureViewKinds.Service)
        {
            return view.JoinKeys ?? [];
        }
        var keys = new List<FeatureField>();
        foreach (var source in view.Sources ?? [])
        {
            var info = await features.GetViewAsync(source, cancellationToken);
            foreach (var key in info?.JoinKeys ?? [])
            {
                if (!keys.Exists(k => k.Name == key.Name))
                {
                    keys.Add(key);
                }
            }
        }
        _joinKeys.AddOrUpdate(view, keys);
        return keys;
    }

    /// <summary>Whether a body names any of the join keys at its top level (or in its first row, for a batch).</summary>
    public static bool Carries(ReadOnlySequence<byte> body, IReadOnlyList<FeatureField> joinKeys)
    {
        if (joinKeys.Count == 0)
        {
            return false;
        }
        var reader = new Utf8JsonReader(body);
        try
        {
            var depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth <= 2:
                        foreach (var key in joinKeys)
                        {
                            if (reader.ValueTextEquals(key.Name))
                            {
                                return true;
                            }
                        }
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the ordinary path reports it.
        }
        return false;
    }

    /// <summary>Fetches the model's features for each row's entity (plus request-time fields) and scores them; each is
    /// recorded in the prediction log unless <paramref name="record"/> is false (a shadow's answers are not predictions).</summary>
    public async Task<(double[] Predictions, bool IsBatch)> PredictAsync(MlNetModel model, ReadOnlySequence<byte> body, IReadOnlyList<FeatureField> joinKeys,
        long startedTimestamp, string? traceId, CancellationToken cancellationToken, bool record = true, PredictionContext context = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var document = Parse(body);
        var root = document.RootElement;
        var isBatch = root.ValueKind == JsonValueKind.Array;
        var rows = isBatch ? [.. root.EnumerateArray()] : new List<JsonElement> { root };
        if (rows.Count == 0 || rows.Count > InputRowReader.MaxRows)
        {
            throw new InputValidationException("body", $"a batch holds 1 to {InputRowReader.MaxRows} rows");
        }
        var view = model.View;
        var service = view.Kind == FeatureViewKinds.Service;
        var columns = new FeatureColumns();
        // Join keys every row must carry; a view input is request-time data when some row carries it. A model trained on
        // stored features takes any other field as request data of its on-demand views (the store says if it is not),
        // and a field named like one of its features as that feature's value (request-time values win).
        var carried = rows.Where(r => r.ValueKind == JsonValueKind.Object).SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToHashSet(StringComparer.Ordinal);
        var names = joinKeys.Select(k => k.Name).Concat(service
            ? carried.Where(n => joinKeys.All(k => k.Name != n) && view.Inputs.All(i => i.Name != n)).Order(StringComparer.Ordinal)
            : view.Inputs.Select(i => i.Name).Where(carried.Contains)).ToList();
        foreach (var name in names)
        {
            columns[name] = new List<object?>(rows.Count);
        }
        for (var r = 0; r < rows.Count; r++)
        {
            var prefix = isBatch ? $"[{r}]." : string.Empty;
            if (rows[r].ValueKind != JsonValueKind.Object)
            {
                throw new InputValidationException(isBatch ? $"[{r}]" : "body", "must be a JSON object");
            }
            foreach (var name in names)
            {
                if (!rows[r].TryGetProperty(name, out var value))
                {
                    throw new InputValidationException(prefix + name, joinKeys.Any(k => k.Name == name) ? "is required (the entity to predict for)" : "is required in every row of the batch");
                }
                columns[name].Add(value);
            }
        }
        Func<int, string, double?>? given = !service ? null : (r, feature) => rows[r].TryGetProperty(feature, out var value)
            ? value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) ? number
                : throw new InputValidationException((isBatch ? $"[{r}]." : string.Empty) + feature, "must be a finite number")
            : null;
        var vectors = await VectorsAsync(view, columns, rows.Count, joinKeys, given, cancellationToken);
        var predictions = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            predictions[r] = record ? serving.PredictFeatures(model, vectors[r], startedTimestamp, traceId, context, r).Prediction : model.Score(vectors[r]);
        }
        return (predictions, isBatch);
    }

    /// <summary>Each row's feature vector (in the view's feature order) from the online store, for entity columns (join
    /// keys and request data); <paramref name="given"/> supplies a row's own value of a feature, which wins. A feature
    /// the store does not have for an entity is a 404 naming the entity.</summary>
    public async Task<double[][]> VectorsAsync(FeatureViewInfo view, FeatureColumns columns, int rows, IReadOnlyList<FeatureField> joinKeys,
        Func<int, string, double?>? given, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(joinKeys);
        OnlineFeaturesResponse online;
        try
        {
            // A model trained on stored features reads them as the definitions it was trained with declared them.
            online = await features.GetOnlineFeaturesAsync(
                new OnlineFeaturesRequest(columns, view.Kind == FeatureViewKinds.Service ? view.Sources : [view.Name])
                {
                    DefinitionsVersion = view.Tags?.GetValueOrDefault(FeatureSelection.DefinitionsVersionTag) is { } v
                        && long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null,
                }, cancellationToken);
        }
        catch (InputValidationException e) when (e.Field.StartsWith("entities.", StringComparison.Ordinal))
        {
            throw new InputValidationException(e.Field["entities.".Length..], e.Reason);
        }
        var index = online.Metadata.FeatureNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var vectors = new double[rows][];
        for (var r = 0; r < rows; r++)
        {
            var vector = vectors[r] = new double[view.Features.Count];
            for (var f = 0; f < vector.Length; f++)
            {
                if (given?.Invoke(r, view.Features[f].Name) is double own)
                {
                    vector[f] = own;
                    continue;
                }
                var result = online.Results[index[view.Features[f].Name]];
                if (result.Statuses[r] != FeatureStatus.Present || ToDouble(result.Values[r]) is not double value)
                {
                    var entity = string.Join(", ", joinKeys.Select(k => $"{k.Name}={Describe(columns[k.Name][r])}"));
                    throw new ResourceNotFoundException("online features", $"{entity} ({view.Features[f].Name}: {result.Statuses[r]})");
                }
                vector[f] = value;
            }
        }
        return vectors;
    }

    /// <summary>For a model trained on stored features, an infer request that carries entity keys (V2 tensors named like
    /// the join keys, one value per row) instead of the model's inputs: the inputs, fetched online. A tensor named like a
    /// model input supplies that feature's values (they win); any other is request data for the store. Null when the
    /// model is not such a model or the request carries no join key (the ordinary path then answers).</summary>
    public async Task<Tensor[]?> EntityInputsAsync(ServableModel model, IReadOnlyList<Tensor> given, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (model is not MlNetModel { View: { Kind: FeatureViewKinds.Service } view } || view.JoinKeys is not { Count: > 0 } joinKeys
            || !given.Any(t => joinKeys.Any(k => k.Name == t.Name)))
        {
            return null;
        }
        var rows = given[0].Rows;
        var columns = new FeatureColumns();
        var own = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var tensor in given)
        {
            if (tensor.Data.Length != rows || tensor.Rows != rows || rows is < 1 or > InputRowReader.MaxRows)
            {
                throw new InputValidationException(tensor.Name, $"must hold one value per row, as the other inputs ({rows} rows, at most {InputRowReader.MaxRows})");
            }
            if (view.Inputs.Any(i => i.Name == tensor.Name))
            {
                own[tensor.Name] = tensor;
            }
            else
            {
                columns[tensor.Name] = [.. tensor.Data.Cast<object?>()];
            }
        }
        foreach (var key in joinKeys.Where(k => !columns.ContainsKey(k.Name)))
        {
            throw new InputValidationException(key.Name, "is required (the entity to predict for)");
        }
        var vectors = await VectorsAsync(view, columns, (int)rows, joinKeys,
            own.Count == 0 ? null : (r, feature) => own.TryGetValue(feature, out var t) ? Convert.ToDouble(t.Data.GetValue(r), System.Globalization.CultureInfo.InvariantCulture) : null,
            cancellationToken);
        return [.. view.Inputs.Select((input, i) => new Tensor(input.Name, TensorDatatype.Fp64, [rows], vectors.Select(v => v[i]).ToArray()))];
    }

    /// <summary>KServe V1 <c>instances</c> that carry a stored-features model's join keys (<c>[{"patient_id": 5}]</c>), as
    /// one tensor per field (INT64, FP64, BYTES or BOOL); null when the model is not such a model or no instance carries a
    /// join key (the ordinary path then reads the body).</summary>
    public static List<Tensor>? EntityInstances(ReadOnlySequence<byte> body, ServableModel model)
    {
        if (model is not MlNetModel { View: { Kind: FeatureViewKinds.Service, JoinKeys: { Count: > 0 } joinKeys } })
        {
            return null;
        }
        using var document = Parse(body);
        if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("instances", out var instances)
            || instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() is 0 or > InputRowReader.MaxRows
            || instances[0].ValueKind != JsonValueKind.Object || !joinKeys.Any(k => instances[0].TryGetProperty(k.Name, out _)))
        {
            return null;
        }
        var rows = instances.EnumerateArray().ToList();
        var tensors = new List<Tensor>();
        foreach (var field in rows[0].EnumerateObject().Select(p => p.Name))
        {
            var values = new JsonElement[rows.Count];
            for (var r = 0; r < rows.Count; r++)
            {
                if (rows[r].ValueKind != JsonValueKind.Object || !rows[r].TryGetProperty(field, out values[r]))
                {
                    throw new InputValidationException($"instances[{r}].{field}", "is required in every instance (the first has it)");
                }
            }
            tensors.Add(values switch
            {
                _ when values.All(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _)) =>
                    new Tensor(field, TensorDatatype.I64, [rows.Count], values.Select(v => v.GetInt64()).ToArray()),
                _ when values.All(v => v.ValueKind == JsonValueKind.Number) =>
                    new Tensor(field, TensorDatatype.Fp64, [rows.Count], values.Select(v => v.GetDouble()).ToArray()),
                _ when values.All(v => v.ValueKind == JsonValueKind.String) =>
                    new Tensor(field, TensorDatatype.Bytes, [rows.Count], values.Select(v => v.GetString()!).ToArray()),
                _ when values.All(v => v.ValueKind is JsonValueKind.True or JsonValueKind.False) =>
                    new Tensor(field, TensorDatatype.Bool, [rows.Count], values.Select(v => v.GetBoolean()).ToArray()),
                _ => throw new InputValidationException($"instances.{field}", "must be numbers, strings or booleans, the same kind in every instance"),
            });
        }
        return tensors;
    }

    private static JsonDocument Parse(ReadOnlySequence<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InputValidationException("body", "is not valid JSON: " + e.Message);
        }
    }

    private static double? ToDouble(object? value) => value switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        int i => i,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        _ => null,
    };

    private static string Describe(object? value) => value is JsonElement e ? e.GetRawText() : value?.ToString() ?? "null";
}
