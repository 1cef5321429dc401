Console.WriteLine("Microsoft.ML.Transformers quick start");
