using Strata.Contracts;
using Strata.ServiceDefaults;
using System.Globalization;
using DuckDB.NET.Data;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Errors;
using Strata.Data.Ingestion;
using Strata.Data.Storage;

namespace Strata.Data;

/// <summary>The Data module in process: ingestion and reads of dataset versions (<see cref="IDataClient"/>). A new version
/// is announced as <c>data.ingested</c> through the catalog's outbox (see <see cref="DatasetCatalog"/>).</summary>
public sealed class DataService(DatasetCatalog catalog, CsvIngestion ingestion, IOutboxSignal? outbox = null) : IDataClient
{
    public async Task<DatasetVersion> IngestCsvAsync(string name, Stream csv, CleaningRules rules, CancellationToken cancellationToken = default)
    {
        var version = await ingestion.IngestAsync(name, csv, rules, cancellationToken);
        outbox?.Notify();
        return version;
    }

    public async Task<DatasetVersion> IngestParquetAsync(string name, Stream parquet, CancellationToken cancellationToken = default)
    {
        var version = await ingestion.IngestAsync(name, parquet, SourceFormat.Parquet, CleaningRules.None, cancellationToken);
        outbox?.Notify();
        return version;
    }

    public Task<Stream> OpenParquetAsync(string id, CancellationToken cancellationToken = default)
    {
        _ = catalog.Get(id) ?? throw new ResourceNotFoundException("dataset", id);
        return Task.FromResult<Stream>(new FileStream(catalog.DataPath(id), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true));
    }

    public Task<DatasetVersion?> GetDatasetAsync(string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.Get(id));

    public Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(string? name = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.List(name));

    public async Task<ColumnFrame> ReadColumnsAsync(string id, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var version = catalog.Get(id) ?? throw new ResourceNotFoundException("dataset", id);
        IReadOnlyList<string> wanted = columns is { Count: > 0 }
            ? columns
            : [.. version.Schema.Where(c => DuckSql.IsNumeric(c.Type)).Select(c => c.Name)];
        if (wanted.Count == 0)
        {
            throw new InputValidationException("column", $"dataset {id} has no numeric column; a frame is read from numeric columns only");
        }
        foreach (var column in wanted)
        {
            var schema = version.Schema.FirstOrDefault(c => c.Name == column)
                ?? throw new InputValidationException("column", $"'{column}' is not a column of dataset {id}");
            if (!DuckSql.IsNumeric(schema.Type))
            {
                throw new InputValidationException("column", $"'{column}' is {WireNames.Of(schema.Type)}; only numeric columns can be read as a frame");
            }
        }
        var values = wanted.Select(_ => new double[version.Rows]).ToArray();
        using var db = new DuckDBConnection("Data Source=:memory:");
        await db.OpenAsync(cancellationToken);
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", wanted.Select(c => $"CAST({DuckSql.Identifier(c)} AS DOUBLE)"))} FROM read_parquet({DuckSql.Literal(catalog.DataPath(id))})";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var row = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var c = 0; c < values.Length; c++)
            {
                values[c][row] = reader.IsDBNull(c) ? double.NaN : reader.GetDouble(c);
            }
            row++;
        }
        if (row != version.Rows)
        {
            throw new DependencyUnavailableException("dataset store", string.Create(CultureInfo.InvariantCulture, $"dataset {id} has {row} rows on disk, its manifest says {version.Rows}"));
        }
        return new ColumnFrame(id, version.Rows, wanted.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => values[p.i]));
    }
}
