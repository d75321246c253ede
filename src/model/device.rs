//! Choice of compute device.

use candle_core::Device;

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA when this build has it and a GPU is present, else CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first CUDA GPU; an error when the build or the machine has none.
    Cuda,
}

impl DeviceChoice {
    /// Opens the chosen device.
    pub fn open(self) -> crate::Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => {
                if candle_core::utils::cuda_is_available() {
                    Device::new_cuda(0).or(Ok(Device::Cpu))
                } else {
                    Ok(Device::Cpu)
                }
            }
            DeviceChoice::Cuda => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(crate::Error::Device(
                        "this build has no CUDA support; rebuild with `--features cuda`".into(),
                    ));
                }
                Device::new_cuda(0)
                    .map_err(|e| crate::Error::Device(format!("cannot open CUDA GPU 0: {e}")))
            }
        }
    }
}
