using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Data.Ingestion;
using Strata.Data.Storage;
using Strata.ServiceDefaults;

namespace Strata.Data;

/// <summary>DI registration of the Data module (hosted in this process).</summary>
public static class DataModule
{
    public static IServiceCollection AddDataModule(this IServiceCollection services)
    {
        services.AddSingleton(sp => new DatasetCatalog(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Data),
            sp.GetService<IEventEncoder>()));
        services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<DatasetCatalog>());
        services.AddSingleton<CsvIngestion>();
        services.AddSingleton<DataService>();
        services.AddSingleton<IDataClient>(sp => sp.GetRequiredService<DataService>());
        services.AddOpenApi(ModuleNames.Data);
        return services;
    }
}
