using DuckDB.NET.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.ServiceDefaults;
using Strata.Features.Definitions;

namespace Strata.Features.Store;

/// <summary>The seed's event-driven feature engineering: on <c>data.ingested</c> for a dataset named like a push
/// source (e.g. <c>user_profiles</c>), its rows are written to the online and offline stores through the same
/// validation as <c>POST /push</c>, and <c>features.computed</c> announces them. Other datasets are not feature
/// sources and are ignored. Rows go in chunks of <see cref="ChunkRows"/>; a dataset that does not fit the source's
/// schema is logged and skipped (retrying cannot fix it).</summary>
public sealed partial class DatasetIngestion(IFeatureRepositorySource definitions, PushService push, IDataClient data, IEventSubscriber subscriber,
    TimeProvider time, ILogger<DatasetIngestion> logger) : BackgroundService
{
    private FeatureRepository Repository => definitions.Current;

    public const string ConsumerGroup = "features-datasets";
    public const int ChunkRows = 50_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var subscription = await subscriber.SubscribeAsync(EventTopics.DataIngested, ConsumerGroup, OnIngestedAsync,
                new SubscriptionOptions { FromStart = true }, stoppingToken);
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task OnIngestedAsync(ReceivedEvent e, CancellationToken cancellationToken)
    {
        var ingested = e.DataAs<DataIngestedEvent>();
        if (ingested is null)
        {
            return;
        }
        foreach (var source in SourcesOf(Repository, ingested.Name, ingested.DatasetId))
        {
            // Row i of the version is created at the event's time + i µs: handling the event again (redelivered,
            // replayed) writes rows both stores already hold, so it changes nothing.
            await IngestAsync(source, ingested.DatasetId, FeatureValues.Micros(e.Time ?? time.GetUtcNow()), cancellationToken);
        }
    }

    /// <summary>The sources a version of dataset <paramref name="name"/> feeds: dataset sources naming it (all versions,
    /// or this one when pinned), and a push source of the same name (the seed's convention).</summary>
    public static IEnumerable<PushSource> SourcesOf(FeatureRepository repository, string name, string datasetId) =>
        repository.Sources.Where(s => s.Dataset is null
            ? s.Name == name
            : s.Dataset == name && (s.DatasetVersion is null || s.DatasetVersion == datasetId));

    /// <summary>Writes a dataset version's rows to a source's views (online and offline); a version that does not fit
    /// the source is logged and skipped (retrying cannot fix it). Returns the rows written.</summary>
    public async Task<int> IngestAsync(PushSource source, string datasetId, long createdFrom, CancellationToken cancellationToken)
    {
        var rows = 0;
        try
        {
            var file = Path.Combine(Path.GetTempPath(), $"strata-ingest-{Guid.NewGuid():N}.parquet");
            try
            {
                await using (var parquet = await data.OpenParquetAsync(datasetId, cancellationToken))
                await using (var output = File.Create(file))
                {
                    await parquet.CopyToAsync(output, cancellationToken);
                }
                foreach (var chunk in ReadChunks(file, Projection(Repository, source)))
                {
                    var count = chunk.Values.First().Count;
                    var created = Enumerable.Range(rows, count).Select(i => createdFrom + i).ToArray();
                    rows += (await push.PushAsync(new PushRequest(source.Name, chunk, PushTargets.OnlineAndOffline), announce: true, created, cancellationToken)).Rows;
                }
            }
            finally
            {
                File.Delete(file);
            }
            LogIngested(logger, datasetId, rows, source.Name);
        }
        catch (InputValidationException invalid)
        {
            LogSkipped(logger, datasetId, source.Name, invalid.Message);
        }
        catch (DuckDBException invalid)
        {
            LogSkipped(logger, datasetId, source.Name, invalid.Message);
        }
        catch (ResourceNotFoundException)
        {
            LogSkipped(logger, datasetId, source.Name, "the dataset version no longer exists");
        }
        return rows;
    }

    /// <summary>Reads the newest (or pinned) version of each dataset source in <paramref name="sources"/> (after an
    /// apply added or changed them): the data already ingested becomes the source's rows.</summary>
    public async Task IngestCurrentAsync(IEnumerable<PushSource> sources, CancellationToken cancellationToken)
    {
        foreach (var source in sources.Where(s => s.Dataset is not null))
        {
            var version = source.DatasetVersion is { } pinned
                ? await data.GetDatasetAsync(pinned, cancellationToken)
                : (await data.ListDatasetsAsync(source.Dataset, cancellationToken)).MaxBy(v => v.CreatedAt);
            if (version is null || version.Name != source.Dataset)
            {
                LogSkipped(logger, source.DatasetVersion ?? source.Dataset!, source.Name, "no such dataset version yet; it is read when ingested");
                continue;
            }
            await IngestAsync(source, version.Id, FeatureValues.Micros(version.CreatedAt), cancellationToken);
        }
    }

    /// <summary>For a dataset source, the columns to read and what they become: join keys, the timestamp column as
    /// <c>event_timestamp</c>, the source's columns (a dataset may hold more, e.g. a label). Null: every column as is.</summary>
    private static List<(string Column, string As)>? Projection(FeatureRepository repository, PushSource source) =>
        source.Dataset is null ? null :
        [
            .. repository.Entity(source.Entity).JoinKeys.Select(k => (k.Name, k.Name)),
            (source.TimestampColumn, OfflineStore.EventTimestamp),
            .. source.Columns.Select(c => (c.Name, c.Name)),
        ];

    private static IEnumerable<FeatureColumns> ReadChunks(string file, List<(string Column, string As)>? projection)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var command = db.CreateCommand();
        var columns = projection is null ? "*" : string.Join(", ", projection.Select(p => $"{DuckSql.Identifier(p.Column)} AS {DuckSql.Identifier(p.As)}"));
        command.CommandText = $"SELECT {columns} FROM read_parquet({DuckSql.Literal(file)})";
        using var reader = command.ExecuteReader();
        var chunk = NewChunk(reader);
        var count = 0;
        while (reader.Read())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                chunk[reader.GetName(i)].Add(reader.IsDBNull(i) ? null : reader.GetValue(i));
            }
            if (++count == ChunkRows)
            {
                yield return chunk;
                chunk = NewChunk(reader);
                count = 0;
            }
        }
        if (count > 0)
        {
            yield return chunk;
        }
    }

    private static FeatureColumns NewChunk(DuckDBDataReader reader)
    {
        var chunk = new FeatureColumns();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            chunk[reader.GetName(i)] = [];
        }
        return chunk;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dataset {DatasetId}: {Rows} rows written to push source {Source}")]
    private static partial void LogIngested(ILogger logger, string datasetId, int rows, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dataset {DatasetId} skipped for push source {Source}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string datasetId, string source, string reason);
}
