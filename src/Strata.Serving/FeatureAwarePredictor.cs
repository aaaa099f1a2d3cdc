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

    /// <summary>Fetches the model's features for each row's entity (plus request-time fields) and scores them.</summary>
    public async Task<(double[] Predictions, bool IsBatch)> PredictAsync(MlNetModel model, ReadOnlySequence<byte> body, IReadOnlyList<FeatureField> joinKeys,
        long startedTimestamp, string? traceId, CancellationToken cancellationToken)
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
        var columns = new FeatureColumns();
        // Join keys every row must carry; a view input is request-time data when some row carries it.
        var names = joinKeys.Select(k => k.Name).Concat(view.Inputs.Select(i => i.Name)
            .Where(n => rows.Exists(r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty(n, out _)))).ToList();
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
        OnlineFeaturesResponse online;
        try
        {
            online = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(columns, [view.Name]), cancellationToken);
        }
        catch (InputValidationException e) when (e.Field.StartsWith("entities.", StringComparison.Ordinal))
        {
            throw new InputValidationException(e.Field["entities.".Length..], e.Reason);
        }
        var index = online.Metadata.FeatureNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var predictions = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var vector = new double[view.Features.Count];
            for (var f = 0; f < vector.Length; f++)
            {
                var result = online.Results[index[view.Features[f].Name]];
                if (result.Statuses[r] != FeatureStatus.Present || ToDouble(result.Values[r]) is not double value)
                {
                    var entity = string.Join(", ", joinKeys.Select(k => $"{k.Name}={Describe(columns[k.Name][r])}"));
                    throw new ResourceNotFoundException("online features", $"{entity} ({view.Features[f].Name}: {result.Statuses[r]})");
                }
                vector[f] = value;
            }
            predictions[r] = serving.PredictFeatures(model, vector, startedTimestamp, traceId).Prediction;
        }
        return (predictions, isBatch);
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
        int i => i,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        _ => null,
    };

    private static string Describe(object? value) => value is JsonElement e ? e.GetRawText() : value?.ToString() ?? "null";
}
