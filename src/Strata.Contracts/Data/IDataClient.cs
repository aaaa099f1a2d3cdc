namespace Strata.Contracts.Data;

/// <summary>The Data module as other modules see it: ingestion into immutable dataset versions and reads.</summary>
public interface IDataClient
{
    /// <summary>Ingests CSV text as a new (or, for identical content and rules, the existing) dataset version.</summary>
    Task<DatasetVersion> IngestCsvAsync(string name, Stream csv, CleaningRules rules, CancellationToken cancellationToken = default);

    /// <summary>Ingests a Parquet file as a new (or, for identical bytes, the existing) dataset version, as it is.</summary>
    Task<DatasetVersion> IngestParquetAsync(string name, Stream parquet, CancellationToken cancellationToken = default);

    /// <summary>Opens a dataset version's rows as a Parquet stream; the caller disposes it.</summary>
    Task<Stream> OpenParquetAsync(string id, CancellationToken cancellationToken = default);

    Task<DatasetVersion?> GetDatasetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Dataset versions, newest first, optionally only those of one dataset name.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(string? name = null, CancellationToken cancellationToken = default);

    /// <summary>Reads numeric columns of a dataset version (all numeric columns when <paramref name="columns"/> is null).</summary>
    Task<ColumnFrame> ReadColumnsAsync(string id, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default);
}
