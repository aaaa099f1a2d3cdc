using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Online;

namespace Strata.Features.Store;

/// <summary><c>get-online-features</c>: resolves the features, reads every view for every entity row from the online
/// store in one round trip, enforces each view's ttl (<c>OUTSIDE_MAX_AGE</c>), computes aggregates as of now and
/// on-demand features, and answers in Feast's column-major shape.</summary>
public sealed class OnlineFeatureServer(FeatureRepository repository, IOnlineStore store, TimeProvider time)
{
    public const int MaxEntityRows = 10_000;
    private static readonly string Epoch = FeatureValues.FormatTimestamp(0);

    public Task<OnlineFeaturesResponse> GetAsync(OnlineFeaturesRequest request, CancellationToken cancellationToken) =>
        GetAsync(request, FeatureValues.Micros(time.GetUtcNow()), cancellationToken);

    /// <summary>Reads as of <paramref name="asOf"/> (µs since the epoch): ttl and aggregate windows end there.</summary>
    public async Task<OnlineFeaturesResponse> GetAsync(OnlineFeaturesRequest request, long asOf, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var entities = request.Entities ?? throw new InputValidationException("entities", "is required: join key name -> values");
        var plan = repository.Resolve(request.Features, request.FeatureService, request.FullFeatureNames, entities.Keys);
        var rows = FeatureValues.RowCount(entities, "entities");
        foreach (var name in entities.Keys)
        {
            if (!plan.JoinKeys.Any(k => k.Name == name) && !plan.RequestColumns.Contains(name))
            {
                throw new InputValidationException($"entities.{name}",
                    $"is not a join key ({string.Join(", ", plan.JoinKeys.Select(k => k.Name))}) or request data of the requested features");
            }
        }
        if (rows <= 0)
        {
            throw new InputValidationException("entities", "has no rows");
        }
        if (rows > MaxEntityRows)
        {
            throw new InputValidationException("entities", $"{rows} rows is more than {MaxEntityRows} per request");
        }
        // Join keys, typed as declared.
        var keyValues = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        foreach (var key in plan.JoinKeys)
        {
            var column = entities.GetValueOrDefault(key.Name)
                ?? throw new InputValidationException($"entities.{key.Name}", $"is required: join key of the requested features ({key.Type})");
            var typed = new object?[rows];
            for (var r = 0; r < rows; r++)
            {
                typed[r] = FeatureValues.ToValue(column[r], key.Type, $"entities.{key.Name}", r)
                    ?? throw new InputValidationException($"entities.{key.Name}", $"row {r}: a join key cannot be null");
            }
            keyValues[key.Name] = typed;
        }
        var reads = new List<OnlineRead>();
        // Entity keys once per entity, shared by all of its views.
        var keysByEntity = new Dictionary<string, string?[]>(StringComparer.Ordinal);
        foreach (var s in plan.EntityViews)
        {
            if (!keysByEntity.TryGetValue(s.View!.Entity, out var keys))
            {
                var joinKeys = repository.Entity(s.View.Entity).JoinKeys;
                keys = new string?[rows];
                var parts = new object?[joinKeys.Count];
                for (var r = 0; r < rows; r++)
                {
                    for (var k = 0; k < parts.Length; k++)
                    {
                        parts[k] = keyValues[joinKeys[k].Name][r];
                    }
                    keys[r] = FeatureValues.EntityKey(parts);
                }
                keysByEntity[s.View.Entity] = keys;
            }
            reads.Add(new OnlineRead(s.View, keys));
        }
        var found = await store.ReadAsync(reads, asOf, cancellationToken);

        var width = plan.FeatureNames.Count;
        var values = new object?[width][];
        var statuses = new string[width][];
        var timestamps = new string[width][];
        for (var c = 0; c < width; c++)
        {
            values[c] = new object?[rows];
            statuses[c] = new string[rows];
            timestamps[c] = new string[rows];
        }
        // Per selection, per row: values of every selected feature (visible or not) and their status, for on-demand inputs.
        var selectionValues = new Dictionary<ViewSelection, (object?[][] Values, string[][] Statuses)>();
        var read = 0;
        foreach (var s in plan.EntityViews)
        {
            var result = found[read++];
            var view = s.View!;
            var sv = new object?[rows][];
            var ss = new string[rows][];
            var all = view is AggregateFeatureView a ? new object?[a.Features.Count] : null;
            for (var r = 0; r < rows; r++)
            {
                sv[r] = new object?[s.Features.Count];
                ss[r] = new string[s.Features.Count];
                string stamp;
                if (view is AggregateFeatureView aggregate)
                {
                    var events = result.Events![r];
                    WindowAggregator.Compute(aggregate, events, asOf, all!, 0);
                    stamp = events.Count == 0 ? Epoch : FeatureValues.FormatTimestamp(events.Max(e => e.EventTs));
                    for (var i = 0; i < s.Features.Count; i++)
                    {
                        sv[r][i] = all![s.Indices[i]];
                        ss[r][i] = sv[r][i] is null ? FeatureStatus.NullValue : FeatureStatus.Present;
                    }
                }
                else
                {
                    var row = result.Latest![r];
                    var expired = row is not null && view.Ttl is { } ttl && row.EventTs < asOf - FeatureValues.Micros(ttl);
                    stamp = row is null ? Epoch : FeatureValues.FormatTimestamp(row.EventTs);
                    for (var i = 0; i < s.Features.Count; i++)
                    {
                        var value = row is null || expired ? null : row.Values[s.Indices[i]];
                        sv[r][i] = value;
                        ss[r][i] = row is null ? FeatureStatus.NotFound
                            : expired ? FeatureStatus.OutsideMaxAge
                            : value is null ? FeatureStatus.NullValue
                            : FeatureStatus.Present;
                    }
                }
                for (var i = 0; i < s.Features.Count; i++)
                {
                    if (s.OutputColumns[i] is var c and >= 0)
                    {
                        values[c][r] = sv[r][i];
                        statuses[c][r] = ss[r][i];
                        timestamps[c][r] = stamp;
                    }
                }
            }
            selectionValues[s] = (sv, ss);
        }
        foreach (var s in plan.OnDemandViews)
        {
            var inputs = new double[s.InputSources.Count];
            for (var r = 0; r < rows; r++)
            {
                string? missing = null;
                for (var i = 0; i < inputs.Length && missing is null; i++)
                {
                    var input = s.InputSources[i];
                    if (input.From is { } from)
                    {
                        var (sv, ss) = selectionValues[from];
                        if (sv[r][input.FeatureIndex] is double d)
                        {
                            inputs[i] = d;
                        }
                        else
                        {
                            missing = ss[r][input.FeatureIndex] == FeatureStatus.Present ? FeatureStatus.NullValue : ss[r][input.FeatureIndex];
                        }
                    }
                    else if (FeatureValues.ToValue(entities.GetValueOrDefault(input.Name)?[r], FeatureTypes.Float64, $"entities.{input.Name}", r) is double d)
                    {
                        inputs[i] = d;
                    }
                    else if (!entities.ContainsKey(input.Name))
                    {
                        throw new InputValidationException($"entities.{input.Name}", $"is required: request data of on-demand view '{s.ViewName}'");
                    }
                    else
                    {
                        missing = FeatureStatus.NullValue;
                    }
                }
                double[]? features = null;
                if (missing is null)
                {
                    try
                    {
                        features = s.OnDemand!.Transform.Compute(inputs);
                    }
                    catch (InputValidationException e) when (s.InputSources.Any(i => i.Name == e.Field && i.From is null))
                    {
                        throw new InputValidationException($"entities.{e.Field}", $"row {r}: {e.Message}");
                    }
                    catch (InputValidationException)
                    {
                        // A stored input outside the view's domain: the feature has no value, the request is not at fault.
                        missing = FeatureStatus.NullValue;
                    }
                }
                for (var i = 0; i < s.Features.Count; i++)
                {
                    if (s.OutputColumns[i] is var c and >= 0)
                    {
                        values[c][r] = features is null ? null : features[s.Indices[i]];
                        statuses[c][r] = missing ?? FeatureStatus.Present;
                        timestamps[c][r] = Epoch;
                    }
                }
            }
        }
        var names = new List<string>(plan.JoinKeys.Count + width);
        var results = new List<OnlineFeatureVector>(plan.JoinKeys.Count + width);
        var presentColumn = Enumerable.Repeat(FeatureStatus.Present, rows).ToArray();
        var epochColumn = Enumerable.Repeat(Epoch, rows).ToArray();
        foreach (var key in plan.JoinKeys)
        {
            names.Add(key.Name);
            results.Add(new OnlineFeatureVector(keyValues[key.Name], presentColumn, epochColumn));
        }
        for (var c = 0; c < width; c++)
        {
            names.Add(plan.FeatureNames[c]);
            results.Add(new OnlineFeatureVector(values[c], statuses[c], timestamps[c]));
        }
        return new OnlineFeaturesResponse(new OnlineFeaturesMetadata(names), results);
    }
}
