namespace Strata.Contracts.Features;

/// <summary>Column-major rows, as Feast's <c>df</c>: column name → values, every column the same length. Values are
/// JSON scalars (number, string, bool, null); timestamps are RFC 3339 strings or epoch seconds. Read from JSON as CLR
/// values (<see cref="FeatureColumnsJsonConverter"/>): a JSON value read as <c>object</c> would be a JsonElement with a
/// document of its own, about 200 bytes for one number.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(FeatureColumnsJsonConverter))]
public sealed class FeatureColumns : Dictionary<string, List<object?>>
{
    public FeatureColumns() : base(StringComparer.Ordinal)
    {
    }
}

/// <summary><c>POST /api/features/get-online-features</c> (Feast feature-server shape).</summary>
public sealed record OnlineFeaturesRequest(
    FeatureColumns? Entities,
    IReadOnlyList<string>? Features = null,
    string? FeatureService = null,
    bool FullFeatureNames = false)
{
    /// <summary>Resolve the features as an applied definitions version declared them (a model trained then reads its
    /// features with that version's formulas); null: the definitions in force. Stored values are the same either way
    /// (a view's stored layout never changes under its name).</summary>
    public long? DefinitionsVersion { get; init; }
}

/// <summary>Feast's response: one <see cref="OnlineFeatureVector"/> per feature name (join keys first), each running
/// across the entity rows in request order.</summary>
public sealed record OnlineFeaturesResponse(OnlineFeaturesMetadata Metadata, IReadOnlyList<OnlineFeatureVector> Results);

public sealed record OnlineFeaturesMetadata(IReadOnlyList<string> FeatureNames);

/// <summary>Values, statuses (<see cref="FeatureStatus"/>) and event timestamps (RFC 3339) of one feature across entity rows.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(OnlineFeatureVectorJsonConverter))]
public sealed record OnlineFeatureVector(IReadOnlyList<object?> Values, IReadOnlyList<string> Statuses, IReadOnlyList<string> EventTimestamps);

/// <summary>The statuses of an online value, as Feast names them.</summary>
public static class FeatureStatus
{
    public const string Present = "PRESENT";
    public const string NullValue = "NULL_VALUE";
    public const string NotFound = "NOT_FOUND";
    public const string OutsideMaxAge = "OUTSIDE_MAX_AGE";
}

/// <summary>Where a push goes.</summary>
public static class PushTargets
{
    public const string Online = "online";
    public const string Offline = "offline";
    public const string OnlineAndOffline = "online_and_offline";
}

/// <summary><c>POST /api/features/push</c>: rows for a push source, written all-or-nothing.</summary>
public sealed record PushRequest(string? PushSourceName, FeatureColumns? Df, string? To = null);

public sealed record PushResult(string PushSource, int Rows, string To, IReadOnlyList<string> FeatureViews);

/// <summary><c>POST /api/features/historical</c>: point-in-time correct features for entity rows (join keys +
/// <c>event_timestamp</c>), given inline (<see cref="EntityRows"/>) or as a dataset version (<see cref="EntityDatasetId"/>).
/// The result comes back inline (at most <c>max_inline_rows</c>) or, with <see cref="OutputDatasetName"/>, is written
/// as a new dataset version.</summary>
public sealed record HistoricalFeaturesRequest(
    FeatureColumns? EntityRows = null,
    string? EntityDatasetId = null,
    IReadOnlyList<string>? Features = null,
    string? FeatureService = null,
    bool FullFeatureNames = false,
    string? OutputDatasetName = null);

/// <summary>The historical result: <see cref="Columns"/> in order (entity columns first), <see cref="Data"/> column-major
/// when inline, or the dataset version written.</summary>
public sealed record HistoricalFeaturesResponse(
    long Rows,
    IReadOnlyList<string> Columns,
    IReadOnlyDictionary<string, IReadOnlyList<object?>>? Data,
    Data.DatasetVersion? Dataset,
    double ElapsedSeconds);

/// <summary><c>POST /api/features/materialize</c>: copy the latest value per entity with event time in
/// [<see cref="StartTs"/>, <see cref="EndTs"/>] from the offline store into the online store.</summary>
public sealed record MaterializeRequest(string? StartTs, string? EndTs, IReadOnlyList<string>? FeatureViews = null);

/// <summary><c>POST /api/features/materialize-incremental</c>: from where the last materialisation of each view ended
/// (or <c>end - ttl</c>, or the beginning) up to <see cref="EndTs"/>.</summary>
public sealed record MaterializeIncrementalRequest(string? EndTs, IReadOnlyList<string>? FeatureViews = null);

public sealed record MaterializeResult(IReadOnlyList<ViewMaterialization> Views, double ElapsedSeconds);

public sealed record ViewMaterialization(string FeatureView, string StartTs, string EndTs, long Rows, double RowsPerSecond);
