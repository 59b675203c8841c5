import { Body, Controller, Delete, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import { DeviceDto, DeviceListDto, DeviceListQueryDto, UpdateDeviceDto } from './device.dto';
import { DevicesService } from './devices.service';

@ApiTags('devices')
@Controller('devices')
@RequireRole('viewer')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({
    summary: 'List devices in service, filtered by tags, presence, model and capabilities (keyset by id)',
  })
  @ZodResponse({ type: DeviceListDto })
  list(@Query() query: DeviceListQueryDto): Promise<DeviceListDto> {
    return this.devices.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One device (decommissioned ones too)' })
  @ZodResponse({ type: DeviceDto })
  get(@Param('id') id: string): Promise<DeviceDto> {
    return this.devices.get(id);
  }

  @Patch(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Rename a device and/or merge-patch its tags (null removes a tag)' })
  @ZodResponse({ type: DeviceDto })
  update(@Param('id') id: string, @Body() body: UpdateDeviceDto): Promise<DeviceDto> {
    return this.devices.update(id, body);
  }

  @Delete(':id')
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Decommission a device: revoke its credentials, end its MQTT session, clear its retained topics',
  })
  @ZodResponse({ type: DeviceDto })
  decommission(@Param('id') id: string): Promise<DeviceDto> {
    return this.devices.decommission(id);
  }
}
