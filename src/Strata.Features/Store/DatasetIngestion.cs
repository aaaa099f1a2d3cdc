using DuckDB.NET.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.ServiceDefaults;

namespace Strata.Features.Store;

/// <summary>The seed's event-driven feature engineering: on <c>data.ingested</c> for a dataset named like a push
/// source (e.g. <c>user_profiles</c>), its rows are written to the online and offline stores through the same
/// validation as <c>POST /push</c>, and <c>features.computed</c> announces them. Other datasets are not feature
/// sources and are ignored. Rows go in chunks of <see cref="ChunkRows"/>; a dataset that does not fit the source's
/// schema is logged and skipped (retrying cannot fix it).</summary>
public sealed partial class DatasetIngestion(FeatureRepository repository, PushService push, IDataClient data, IEventSubscriber subscriber,
    TimeProvider time, ILogger<DatasetIngestion> logger) : BackgroundService
{
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
        if (ingested is null || repository.FindSource(ingested.Name) is not { } source)
        {
            return;
        }
        var rows = 0;
        try
        {
            var file = Path.Combine(Path.GetTempPath(), $"strata-ingest-{Guid.NewGuid():N}.parquet");
            try
            {
                await using (var parquet = await data.OpenParquetAsync(ingested.DatasetId, cancellationToken))
                await using (var output = File.Create(file))
                {
                    await parquet.CopyToAsync(output, cancellationToken);
                }
                // Row i of the version is created at the event's time + i µs: handling the event again (redelivered,
                // replayed) writes rows both stores already hold, so it changes nothing.
                var first = FeatureValues.Micros(e.Time ?? time.GetUtcNow());
                foreach (var chunk in ReadChunks(file))
                {
                    var count = chunk.Values.First().Count;
                    var created = Enumerable.Range(rows, count).Select(i => first + i).ToArray();
                    rows += (await push.PushAsync(new PushRequest(source.Name, chunk, PushTargets.OnlineAndOffline), announce: true, created, cancellationToken)).Rows;
                }
            }
            finally
            {
                File.Delete(file);
            }
            LogIngested(logger, ingested.DatasetId, rows, source.Name);
        }
        catch (InputValidationException invalid)
        {
            LogSkipped(logger, ingested.DatasetId, source.Name, invalid.Message);
        }
        catch (ResourceNotFoundException)
        {
            LogSkipped(logger, ingested.DatasetId, source.Name, "the dataset version no longer exists");
        }
    }

    private static IEnumerable<FeatureColumns> ReadChunks(string file)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT * FROM read_parquet({DuckSql.Literal(file)})";
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
