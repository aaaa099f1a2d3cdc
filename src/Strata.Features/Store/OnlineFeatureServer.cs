using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Online;
using Strata.Features.Definitions;

namespace Strata.Features.Store;

/// <summary><c>get-online-features</c>: resolves the features, reads every view for every entity row from the online
/// store in one round trip, enforces each view's ttl (<c>OUTSIDE_MAX_AGE</c>), computes aggregates as of now and
/// on-demand features, and answers in Feast's column-major shape.</summary>
public sealed class OnlineFeatureServer(IFeatureRepositorySource definitions, IOnlineStore store, TimeProvider time)
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
        var repository = request.DefinitionsVersion is { } version
            ? (definitions is FeatureDefinitions applied ? applied.At(version) : definitions.Current.Version == version ? definitions.Current : null)
                ?? throw new InputValidationException("definitions_version", $"no definitions version {version} was applied")
            : definitions.Current;
        var plan = repository.Resolve(request.Features, request.FeatureService, request.FullFeatureNames, entities.Keys);
        var rows = CheckEntities(plan, entities);
        var keyValues = TypedJoinKeys(plan, entities, rows);
        var reads = Reads(repository, plan, keyValues, rows);
        OnlineReadResult[] found;
        // The online store's round trip as a span of its own (Redis or embedded): where a slow lookup spends its time.
        using (var span = FeatureStoreMetrics.Source.StartActivity("online-store read", System.Diagnostics.ActivityKind.Client))
        {
            span?.SetTag("db.system", store.Kind);
            span?.SetTag("strata.views", reads.Count);
            span?.SetTag("strata.rows", rows);
            found = await store.ReadAsync(reads, asOf, cancellationToken);
        }
        var columns = new OutputColumns(plan.FeatureNames.Count, rows);
        var selected = FillStoredViews(plan, found, asOf, rows, columns);
        ComputeOnDemand(plan, entities, selected, rows, columns);
        return Response(plan, keyValues, rows, columns);
    }

    /// <summary>The number of entity rows, once every column is a join key or request data and the count is in bounds.</summary>
    private static int CheckEntities(FeaturePlan plan, FeatureColumns entities)
    {
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
        return rows;
    }

    /// <summary>Join keys, typed as declared (none may be null).</summary>
    private static Dictionary<string, object?[]> TypedJoinKeys(FeaturePlan plan, FeatureColumns entities, int rows)
    {
        var keyValues = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        foreach (var key in plan.JoinKeys)
        {
            var column = entities.GetValueOrDefault(key.Name)
                ?? throw new InputValidationException($"entities.{key.Name}", $"is required: join key of the requested features ({WireNames.Of(key.Type)})");
            var typed = new object?[rows];
            for (var r = 0; r < rows; r++)
            {
                typed[r] = FeatureValues.ToValue(column[r], key.Type, $"entities.{key.Name}", r)
                    ?? throw new InputValidationException($"entities.{key.Name}", $"row {r}: a join key cannot be null");
            }
            keyValues[key.Name] = typed;
        }
        return keyValues;
    }

    /// <summary>One read per stored view, with the entity keys built once per entity and shared by all of its views.</summary>
    private static List<OnlineRead> Reads(FeatureRepository repository, FeaturePlan plan, Dictionary<string, object?[]> keyValues, int rows)
    {
        var reads = new List<OnlineRead>();
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
        return reads;
    }

    /// <summary>The response's feature columns: value, status and event time per row.</summary>
    private sealed class OutputColumns
    {
        public OutputColumns(int width, int rows)
        {
            Values = new object?[width][];
            Statuses = new string[width][];
            Timestamps = new string[width][];
            for (var c = 0; c < width; c++)
            {
                Values[c] = new object?[rows];
                Statuses[c] = new string[rows];
                Timestamps[c] = new string[rows];
            }
        }

        public object?[][] Values { get; }

        public string[][] Statuses { get; }

        public string[][] Timestamps { get; }

        public void Set(int column, int row, object? value, string status, string timestamp)
        {
            Values[column][row] = value;
            Statuses[column][row] = status;
            Timestamps[column][row] = timestamp;
        }
    }

    /// <summary>Stored and aggregate views into the output (ttl applied, aggregates computed as of <paramref name="asOf"/>);
    /// returns, per selection and row, every selected feature's value and status (visible or not), which on-demand
    /// views take as inputs.</summary>
    private static Dictionary<ViewSelection, (object?[][] Values, string[][] Statuses)> FillStoredViews(FeaturePlan plan, OnlineReadResult[] found, long asOf,
        int rows, OutputColumns columns)
    {
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
                    if (FeatureStoreMetrics.Enabled)
                    {
                        FeatureStoreMetrics.Looked(view.Name, row is null ? null : asOf - row.EventTs, expired);
                    }
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
                        columns.Set(c, r, sv[r][i], ss[r][i], stamp);
                    }
                }
            }
            selectionValues[s] = (sv, ss);
        }
        return selectionValues;
    }

    /// <summary>On-demand views, row by row, from stored features and request data. A missing or null input leaves the
    /// features null with the input's status; bad request data is the caller's fault (400), a stored value outside the
    /// view's domain is not (null).</summary>
    private static void ComputeOnDemand(FeaturePlan plan, FeatureColumns entities,
        Dictionary<ViewSelection, (object?[][] Values, string[][] Statuses)> selectionValues, int rows, OutputColumns columns)
    {
        foreach (var s in plan.OnDemandViews)
        {
            var inputs = new double[s.InputSources.Count];
            for (var r = 0; r < rows; r++)
            {
                var missing = GatherInputs(s, entities, selectionValues, r, inputs);
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
                        columns.Set(c, r, features is null ? null : features[s.Indices[i]], missing ?? FeatureStatus.Present, Epoch);
                    }
                }
            }
        }
    }

    /// <summary>Row <paramref name="r"/>'s inputs of an on-demand view into <paramref name="inputs"/>; the status that
    /// makes its features null (an input not found, null, or outside its max age), or null when every input has a value.</summary>
    private static string? GatherInputs(ViewSelection s, FeatureColumns entities,
        Dictionary<ViewSelection, (object?[][] Values, string[][] Statuses)> selectionValues, int r, double[] inputs)
    {
        var transform = s.OnDemand!.Transform;
        for (var i = 0; i < inputs.Length; i++)
        {
            var input = s.InputSources[i];
            var field = s.OnDemand.Inputs[i];
            if (input.From is { } from)
            {
                var (sv, ss) = selectionValues[from];
                if (sv[r][input.FeatureIndex] is { } stored)
                {
                    inputs[i] = transform.Encode(i, stored);
                }
                else if (field.Nullable == true && ss[r][input.FeatureIndex] is FeatureStatus.Present or FeatureStatus.NullValue or FeatureStatus.NotFound)
                {
                    inputs[i] = double.NaN;
                }
                else
                {
                    return ss[r][input.FeatureIndex] == FeatureStatus.Present ? FeatureStatus.NullValue : ss[r][input.FeatureIndex];
                }
            }
            else if (!entities.TryGetValue(input.Name, out var column))
            {
                throw new InputValidationException($"entities.{input.Name}", $"is required: request data of on-demand view '{s.ViewName}'");
            }
            else if (RequestValue(column[r], field, r) is { } value)
            {
                inputs[i] = transform.Encode(i, value);
            }
            else if (field.Nullable == true)
            {
                inputs[i] = double.NaN;
            }
            else
            {
                return FeatureStatus.NullValue;
            }
        }
        return null;
    }

    /// <summary>A request value of an on-demand input, typed by the input's declaration (a timestamp as RFC 3339 or
    /// epoch seconds); null when the request sends null.</summary>
    private static object? RequestValue(object? raw, FeatureField field, int row) => field.Type switch
    {
        _ when raw is null or System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Null } => null,
        LogicalType.Timestamp => FeatureValues.ToDateTimeOffset(FeatureValues.ToTimestamp(raw, $"entities.{field.Name}", row)),
        LogicalType.Int64 or LogicalType.Bool or LogicalType.String => FeatureValues.ToValue(raw, field.Type, $"entities.{field.Name}", row),
        _ => FeatureValues.ToValue(raw, LogicalType.Float64, $"entities.{field.Name}", row),
    };

    /// <summary>Feast's column-major answer: the join keys first, then the features in request order.</summary>
    private static OnlineFeaturesResponse Response(FeaturePlan plan, Dictionary<string, object?[]> keyValues, int rows, OutputColumns columns)
    {
        var width = plan.FeatureNames.Count;
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
            results.Add(new OnlineFeatureVector(columns.Values[c], columns.Statuses[c], columns.Timestamps[c]));
        }
        return new OnlineFeaturesResponse(new OnlineFeaturesMetadata(names), results);
    }
}
